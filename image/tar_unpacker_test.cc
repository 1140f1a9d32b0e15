// Hostile-input tests for the layer unpacker (image-pull spec §4.4, §4.5). The tar streams are
// written byte by byte by TarWriter below (ustar headers, PAX records for long names and
// xattrs), so every escape is exactly what a hostile registry could serve.
// Aggregate initialisation of TarEntry with trailing members defaulted is intended here.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include "image/tar_unpacker.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <map>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"
#include "tests/test_util.h"

namespace cdh::image {
namespace {

using ::cdh::testing::StatusIs;

namespace fs = std::filesystem;

struct TarEntry {
  std::string name;
  char type = '0';  // '0' file, '1' hard link, '2' symlink, '3' char, '4' block, '5' dir, '6' fifo
  std::string data;
  std::string link;
  int mode = 0644;
  int uid = 0;
  int gid = 0;
  std::map<std::string, std::string> pax;
};

void Octal(char* field, size_t len, uint64_t value) {
  std::snprintf(field, len, "%0*llo", static_cast<int>(len - 1), static_cast<unsigned long long>(value));
}

std::string Header(const std::string& name, char type, size_t size, const TarEntry& e) {
  std::string h(512, '\0');
  std::memcpy(h.data(), name.data(), std::min<size_t>(name.size(), 100));
  Octal(h.data() + 100, 8, e.mode);
  Octal(h.data() + 108, 8, e.uid);
  Octal(h.data() + 116, 8, e.gid);
  Octal(h.data() + 124, 12, size);
  Octal(h.data() + 136, 12, 1700000000);
  h[156] = type;
  std::memcpy(h.data() + 157, e.link.data(), std::min<size_t>(e.link.size(), 100));
  std::memcpy(h.data() + 257,
              "ustar\0"
              "00",
              8);
  std::memset(h.data() + 148, ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  std::snprintf(h.data() + 148, 8, "%06o", sum);
  return h;
}

std::string Pad(std::string s) {
  s.resize((s.size() + 511) / 512 * 512, '\0');
  return s;
}

std::string Tar(const std::vector<TarEntry>& entries, bool end_blocks = true) {
  std::string out;
  for (const TarEntry& e : entries) {
    std::map<std::string, std::string> pax = e.pax;
    if (e.name.size() > 100) pax["path"] = e.name;
    if (!pax.empty()) {
      std::string records;
      for (const auto& [k, v] : pax) {
        std::string body = " " + k + "=" + v + "\n";
        size_t len = body.size() + 1;
        while (std::to_string(len).size() + body.size() != len) ++len;
        records += std::to_string(len) + body;
      }
      out += Header("PaxHeader", 'x', records.size(), e) + Pad(records);
    }
    out += Header(e.name.substr(0, 100), e.type, e.type == '0' ? e.data.size() : 0, e);
    if (e.type == '0') out += Pad(e.data);
  }
  if (end_blocks) out += std::string(1024, '\0');
  return out;
}

class TarUnpackerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = tmp_.path() + "/layer";
    outside_ = tmp_.path() + "/outside";
    fs::create_directories(root_);
    fs::create_directories(outside_);
    std::FILE* f = std::fopen((outside_ + "/secret").c_str(), "w");
    std::fputs("do not touch\n", f);
    std::fclose(f);
  }

  absl::StatusOr<UnpackStats> Unpack(const std::string& tar, size_t chunk = 700) {
    int fd = open(root_.c_str(), O_RDONLY | O_DIRECTORY);
    size_t off = 0;
    TarSource source = [&]() -> absl::StatusOr<std::span<const uint8_t>> {
      size_t n = std::min(chunk, tar.size() - off);
      auto s = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(tar.data()) + off, n);
      off += n;
      return s;
    };
    auto result = UnpackTar(source, fd);
    close(fd);
    return result;
  }

  // Nothing was created outside the layer root, and the sentinel is intact.
  void ExpectOutsideUntouched() {
    size_t n = 0;
    for (auto& e : fs::directory_iterator(outside_)) {
      (void)e;
      ++n;
    }
    EXPECT_EQ(n, 1u);
    EXPECT_EQ(testing::ReadFile(outside_ + "/secret"), "do not touch\n");
    EXPECT_FALSE(fs::exists(tmp_.path() + "/escape"));
    EXPECT_FALSE(fs::exists(tmp_.path() + "/x"));
  }

  testing::TempDir tmp_;
  std::string root_;
  std::string outside_;
};

TEST_F(TarUnpackerTest, ExtractsFilesDirsSymlinksHardLinksWithMetadata) {
  TarEntry setuid{"bin/tool", '0', "#!/bin/sh\n", "", 04755, 1000, 1001};
  setuid.pax["SCHILY.xattr.user.note"] = "kept";
  auto stats = Unpack(Tar({{".", '5', "", "", 0755},
                           {"bin", '5', "", "", 0711},
                           setuid,
                           {"bin/sh-link", '2', "", "/bin/tool", 0777},
                           {"bin/hard", '1', "", "bin/tool"},
                           {"etc/deep/file", '0', "abc"}}));
  ASSERT_TRUE(stats.ok()) << stats.status();
  struct stat st;
  ASSERT_EQ(lstat((root_ + "/bin/tool").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 04755u);
  if (geteuid() == 0) {
    EXPECT_EQ(st.st_uid, 1000u);
    EXPECT_EQ(st.st_gid, 1001u);
  }
  EXPECT_EQ(st.st_nlink, 2u);
  EXPECT_EQ(st.st_mtime, 1700000000);
  char buf[16] = {};
  ssize_t n = getxattr((root_ + "/bin/tool").c_str(), "user.note", buf, sizeof(buf));
  if (n >= 0) {  // a filesystem without user xattrs skips them
    EXPECT_EQ(std::string(buf, n), "kept");
  }
  EXPECT_EQ(fs::read_symlink(root_ + "/bin/sh-link"), "/bin/tool");
  ASSERT_EQ(stat((root_ + "/bin").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0711u);
  EXPECT_EQ(testing::ReadFile(root_ + "/etc/deep/file"), "abc");
}

TEST_F(TarUnpackerTest, RefusesDotDotNames) {
  for (const std::string& name :
       {std::string("../escape"), std::string("a/../../x"), std::string("a/.."), std::string("./../x")}) {
    auto st = Unpack(Tar({{name, '0', "pwned"}}));
    EXPECT_THAT(st.status(), StatusIs(absl::StatusCode::kInvalidArgument)) << name;
  }
  ExpectOutsideUntouched();
}

TEST_F(TarUnpackerTest, AbsoluteNamesStayInsideTheRoot) {
  auto st = Unpack(Tar({{"/abs/file", '0', "inside"}}));
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(testing::ReadFile(root_ + "/abs/file"), "inside");
  EXPECT_FALSE(fs::exists("/abs/file"));
}

TEST_F(TarUnpackerTest, RefusesWritingThroughASymlinkedParent) {
  // link -> <outside> (absolute), then link/secret and link/new.
  auto a = Unpack(Tar({{"link", '2', "", outside_}, {"link/new", '0', "pwned"}}));
  EXPECT_THAT(a.status(), StatusIs(absl::StatusCode::kInvalidArgument)) << a.status();
  // d -> .. then d/x.
  fs::remove_all(root_);
  fs::create_directories(root_);
  auto b = Unpack(Tar({{"d", '2', "", ".."}, {"d/x", '0', "pwned"}}));
  EXPECT_THAT(b.status(), StatusIs(absl::StatusCode::kInvalidArgument)) << b.status();
  // A symlink to the sentinel, then a regular file of the same name: the link is replaced,
  // never written through.
  fs::remove_all(root_);
  fs::create_directories(root_);
  auto c = Unpack(Tar({{"s", '2', "", outside_ + "/secret"}, {"s", '0', "replaced"}}));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(testing::ReadFile(root_ + "/s"), "replaced");
  ExpectOutsideUntouched();
}

TEST_F(TarUnpackerTest, RefusesHardLinksOutOfTheLayer) {
  auto abs = Unpack(Tar({{"shadow", '1', "", outside_ + "/secret"}}));
  EXPECT_THAT(abs.status(), StatusIs(absl::StatusCode::kInvalidArgument)) << abs.status();
  auto up = Unpack(Tar({{"out", '1', "", "../outside/secret"}}));
  EXPECT_THAT(up.status(), StatusIs(absl::StatusCode::kInvalidArgument)) << up.status();
  // Through a symlinked directory of the layer.
  auto via = Unpack(Tar({{"l", '2', "", outside_}, {"h", '1', "", "l/secret"}}));
  EXPECT_THAT(via.status(), StatusIs(absl::StatusCode::kInvalidArgument)) << via.status();
  auto dir = Unpack(Tar({{"d", '5', "", "", 0755}, {"h2", '1', "", "d"}}));
  EXPECT_THAT(dir.status(), StatusIs(absl::StatusCode::kInvalidArgument)) << dir.status();
  struct stat st;
  ASSERT_EQ(stat((outside_ + "/secret").c_str(), &st), 0);
  EXPECT_EQ(st.st_nlink, 1u);
  ExpectOutsideUntouched();
}

TEST_F(TarUnpackerTest, DevicesAndFifosAreNotCreated) {
  auto st = Unpack(Tar({{"dev/null", '3'}, {"dev/sda", '4'}, {"fifo", '6'}, {"ok", '0', "x"}}));
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(st->skipped_devices, 3u);
  EXPECT_FALSE(fs::exists(root_ + "/dev/null"));
  EXPECT_FALSE(fs::exists(root_ + "/dev/sda"));
  EXPECT_FALSE(fs::exists(root_ + "/fifo"));
}

TEST_F(TarUnpackerTest, WhiteoutsBecomeOverlayWhiteouts) {
  if (geteuid() != 0) GTEST_SKIP() << "overlay whiteouts need CAP_MKNOD and trusted xattrs (root)";
  auto st = Unpack(Tar({{"etc/.wh.gone", '0'}, {"opq/.wh..wh..opq", '0'}, {"keep", '0', "k"}, {".wh.keep", '0'}}));
  ASSERT_TRUE(st.ok()) << st.status();
  struct stat s;
  ASSERT_EQ(lstat((root_ + "/etc/gone").c_str(), &s), 0);
  EXPECT_TRUE(S_ISCHR(s.st_mode));
  EXPECT_EQ(s.st_rdev, makedev(0, 0));
  EXPECT_FALSE(fs::exists(root_ + "/etc/.wh.gone"));
  char v[4] = {};
  EXPECT_EQ(getxattr((root_ + "/opq").c_str(), "trusted.overlay.opaque", v, sizeof(v)), 1);
  EXPECT_EQ(v[0], 'y');
  EXPECT_EQ(testing::ReadFile(root_ + "/keep"), "k") << "an entry of the same layer wins over its whiteout";
  auto bare = Unpack(Tar({{"x/.wh.", '0'}}));
  EXPECT_THAT(bare.status(), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(TarUnpackerTest, ForgedOverlayXattrsAreDropped) {
  TarEntry e{"d", '5', "", "", 0755};
  e.pax["SCHILY.xattr.trusted.overlay.opaque"] = "y";
  e.pax["SCHILY.xattr.trusted.overlay.redirect"] = "/etc";
  ASSERT_TRUE(Unpack(Tar({e})).ok());
  char v[8];
  EXPECT_LT(getxattr((root_ + "/d").c_str(), "trusted.overlay.opaque", v, sizeof(v)), 0);
  EXPECT_LT(getxattr((root_ + "/d").c_str(), "trusted.overlay.redirect", v, sizeof(v)), 0);
}

TEST_F(TarUnpackerTest, LongPaxNamesAndDuplicates) {
  std::string long_name = std::string(150, 'a') + "/" + std::string(149, 'b');
  auto st = Unpack(Tar({{long_name, '0', "long"},
                        {"dup", '0', "first"},
                        {"dup", '0', "second"},
                        {"dir", '5', "", "", 0700},
                        {"dir", '5', "", "", 0750}}));
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(testing::ReadFile(root_ + "/" + long_name), "long");
  EXPECT_EQ(testing::ReadFile(root_ + "/dup"), "second");
  struct stat s;
  ASSERT_EQ(stat((root_ + "/dir").c_str(), &s), 0);
  EXPECT_EQ(s.st_mode & 0777, 0750u);
}

TEST_F(TarUnpackerTest, TruncatedArchivesAreDataLoss) {
  std::string tar = Tar({{"big", '0', std::string(5000, 'z')}});
  auto st = Unpack(tar.substr(0, 512 + 2000));
  EXPECT_THAT(st.status(), StatusIs(absl::StatusCode::kDataLoss)) << st.status();
  auto garbage = Unpack(std::string(1024, 'x'));
  EXPECT_THAT(garbage.status(), StatusIs(absl::StatusCode::kDataLoss)) << garbage.status();
  // umoci insert's kind of truncation (no end blocks) is readable: the data is all there.
  auto no_end = Unpack(Tar({{"f", '0', "x"}}, false));
  EXPECT_TRUE(no_end.ok()) << no_end.status();
}

TEST_F(TarUnpackerTest, SourceErrorsPropagate) {
  int fd = open(root_.c_str(), O_RDONLY | O_DIRECTORY);
  TarSource failing = []() -> absl::StatusOr<std::span<const uint8_t>> {
    return absl::UnavailableError("connection reset");
  };
  auto st = UnpackTar(failing, fd);
  close(fd);
  EXPECT_THAT(st.status(), StatusIs(absl::StatusCode::kUnavailable));
}

}  // namespace
}  // namespace cdh::image
