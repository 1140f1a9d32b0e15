#include "tools/unseal_dir.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "gtest/gtest.h"

namespace cdh::tool {
namespace {

using ::cdh::testing::IsOk;
using ::cdh::testing::StatusIs;
namespace fs = std::filesystem;

class UnsealDirTest : public ::testing::Test {
 protected:
  void Write(const fs::path& p, std::string_view content, fs::perms perms = fs::perms(0644)) {
    std::ofstream(p, std::ios::binary) << content;
    fs::permissions(p, perms);
  }
  static std::string Read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  // A fake hub: knows two sealed secrets, refuses anything else (as the daemon would).
  UnsealFunction Fake() {
    return [this](std::string_view sealed) -> absl::StatusOr<SecretBytes> {
      seen_.emplace_back(sealed);
      if (sealed == "sealed.AAA\n") return SecretBytes::FromString("plaintext-A");
      if (sealed == "sealed.BBB") return SecretBytes::FromString("plaintext-B");
      return absl::InternalError("Unseal Secret failed");
    };
  }

  testing::TempDir tmp_{"unseal-dir"};
  fs::path dir_ = tmp_.path();
  std::vector<std::string> seen_;
};

// The kubelet's secret-volume layout:
//   dataset_key -> ..data/dataset_key, ..data -> ..2026_11_29_10_00_00.1, the file in there.
TEST_F(UnsealDirTest, KubernetesSecretVolumeBecomesPlaintext) {
  fs::create_directory(dir_ / "..2026_11_29_10_00_00.1");
  Write(dir_ / "..2026_11_29_10_00_00.1" / "dataset_key", "sealed.AAA\n", fs::perms(0640));
  fs::create_directory_symlink("..2026_11_29_10_00_00.1", dir_ / "..data");
  fs::create_symlink("..data/dataset_key", dir_ / "dataset_key");

  auto report = UnsealDir(dir_.string(), Fake());
  ASSERT_THAT(report, IsOk());
  ASSERT_EQ(report->entries.size(), 1u);
  EXPECT_TRUE(report->AllOk());
  EXPECT_EQ(report->entries[0].name, "dataset_key");
  // The file's whole content went to the hub, untrimmed, as the kata agent sends it.
  EXPECT_EQ(seen_, std::vector<std::string>{"sealed.AAA\n"});
  // What the container reads at the mount point is the plaintext.
  EXPECT_EQ(Read(dir_ / "dataset_key"), "plaintext-A");
  // The link is the agent's: <parent dir name>/<entry>.unsealed.
  EXPECT_EQ(fs::read_symlink(dir_ / "dataset_key"), "..2026_11_29_10_00_00.1/dataset_key.unsealed");
  // Same mode as the sealed file, so the pod's user can still read it.
  EXPECT_EQ(fs::status(dir_ / "..2026_11_29_10_00_00.1" / "dataset_key.unsealed").permissions(), fs::perms(0640));
  // ..data (a link to a directory) is left alone.
  EXPECT_TRUE(fs::is_symlink(dir_ / "..data"));
}

TEST_F(UnsealDirTest, PlainFileIsLinkedToItsUnsealedSibling) {
  Write(dir_ / "key", "sealed.BBB");
  auto report = UnsealDir(dir_.string(), Fake());
  ASSERT_THAT(report, IsOk());
  EXPECT_TRUE(report->AllOk());
  EXPECT_EQ(fs::read_symlink(dir_ / "key"), "key.unsealed");
  EXPECT_EQ(Read(dir_ / "key"), "plaintext-B");
}

TEST_F(UnsealDirTest, OtherFilesAreUntouchedAndFailuresDoNotStopTheRest) {
  Write(dir_ / "a_bad", "sealed.junk");
  Write(dir_ / "b_good", "sealed.BBB");
  Write(dir_ / "c_plain", "not sealed");
  Write(dir_ / "d_short", "seal");
  Write(dir_ / "e_empty", "");
  fs::create_directory(dir_ / "sub");
  Write(dir_ / "sub" / "nested", "sealed.BBB");  // not recursed into, like the agent
  fs::create_symlink("nowhere", dir_ / "f_dangling");

  auto report = UnsealDir(dir_.string(), Fake());
  ASSERT_THAT(report, IsOk());
  ASSERT_EQ(report->entries.size(), 2u);
  EXPECT_FALSE(report->AllOk());
  EXPECT_EQ(report->entries[0].name, "a_bad");
  EXPECT_THAT(report->entries[0].status, StatusIs(absl::StatusCode::kInternal));
  EXPECT_EQ(report->entries[1].name, "b_good");
  EXPECT_THAT(report->entries[1].status, IsOk());
  // The failed one is left as it was.
  EXPECT_FALSE(fs::is_symlink(dir_ / "a_bad"));
  EXPECT_EQ(Read(dir_ / "a_bad"), "sealed.junk");
  EXPECT_EQ(Read(dir_ / "c_plain"), "not sealed");
  EXPECT_EQ(Read(dir_ / "sub" / "nested"), "sealed.BBB");
  EXPECT_FALSE(fs::exists(dir_ / "a_bad.unsealed"));
}

TEST_F(UnsealDirTest, OversizeFileIsRefusedWithoutCallingTheHub) {
  Write(dir_ / "big", "sealed." + std::string(kMaxSealedFileSize, 'x'));
  auto report = UnsealDir(dir_.string(), Fake());
  ASSERT_THAT(report, IsOk());
  ASSERT_EQ(report->entries.size(), 1u);
  EXPECT_THAT(report->entries[0].status, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_TRUE(seen_.empty());
}

TEST_F(UnsealDirTest, MissingOrNonDirectory) {
  EXPECT_THAT(UnsealDir((dir_ / "nope").string(), Fake()), StatusIs(absl::StatusCode::kNotFound));
  Write(dir_ / "file", "x");
  EXPECT_THAT(UnsealDir((dir_ / "file").string(), Fake()), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace cdh::tool
