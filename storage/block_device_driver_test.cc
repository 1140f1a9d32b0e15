// End-to-end tests of the block-device driver on the userspace data path: real LUKS2 images
// made by `cryptsetup`, real FUSE, real loop devices, real ext4 mounts. They need root,
// /dev/fuse and /dev/loop-control and skip (with the reason) where those are missing. The
// kernel (dm-crypt) path needs device-mapper, which these machines lack: tests/guest runs it in
// a guest kernel.
#include "storage/block_device_driver.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "common/testing/status_matchers.h"
#include "crypto/xts_cipher.h"
#include "gtest/gtest.h"
#include "storage/loop_device.h"
#include "storage/process.h"
#include "storage/testing/luks_image.h"

namespace cdh::storage {
namespace {

using ::cdh::testing::IsOk;
using ::cdh::testing::StatusIs;

using testutil::LuksImage;
using testutil::MakeLuksImage;
using testutil::TempDir;
using Options = std::map<std::string, std::string>;

std::string ReadText(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
}

// A deterministic 1 MiB file body so reads are checked byte for byte.
std::string Body(size_t n, int seed) {
  std::string s(n, '\0');
  uint32_t x = static_cast<uint32_t>(seed) * 2654435761u + 1;
  for (auto& c : s) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>(x >> 16);
  }
  return s;
}

class BlockDeviceDriverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = testutil::MountTestSkipReason(); !why.empty()) GTEST_SKIP() << why;
    mnt_ = dir_.File("mnt");
    std::filesystem::create_directory(mnt_);
    auto d =
        BlockDeviceDriver::New({.header_dir = dir_.File("headers"), .runtime_dir = dir_.File("run")},
                               NewUserspaceDataPath({.runtime_dir = dir_.File("run"), .engine_threads = 2}), nullptr);
    ASSERT_THAT(d, IsOk());
    driver_ = std::move(*d);
  }
  void TearDown() override {
    if (driver_) driver_->UnmountAll();
    driver_.reset();
    if (!mnt_.empty()) {
      EXPECT_FALSE(testutil::IsMountPoint(mnt_));
    }
  }

  // An ext4 image (4096-byte blocks, so it also fits 4096-byte sectors) holding `files`,
  // made without mounting (`mkfs.ext4 -d`), then turned into LUKS2 by cryptsetup.
  absl::StatusOr<LuksImage> Ext4LuksImage(const std::string& name, size_t sector,
                                          const std::map<std::string, std::string>& files) {
    const std::string src = dir_.File(name + ".src");
    std::filesystem::create_directory(src);
    for (const auto& [f, body] : files) WriteText(src + "/" + f, body);
    const std::string plain = dir_.File(name + ".plain");
    std::string out;
    auto rc = RunProgram({"mkfs.ext4", "-q", "-F", "-b", "4096", "-d", src, plain, "16M"}, &out);
    if (!rc.ok() || *rc != 0) return absl::InternalError("mkfs.ext4 -d failed: " + out);
    return MakeLuksImage(dir_, name, {.sector_size = sector, .plaintext_file = plain});
  }

  Options OpenOptions(const LuksImage& img) {
    const std::string keyfile = img.path + ".key0";
    return {{"devicePath", img.path},
            {"sourceType", "encrypted"},
            {"encryptionType", "luks2"},
            {"targetType", "fileSystem"},
            {"key", "file://" + keyfile}};
  }

  TempDir dir_;
  std::string mnt_;
  std::unique_ptr<BlockDeviceDriver> driver_;
};

TEST_F(BlockDeviceDriverTest, CryptsetupImagesMountAndFilesReadBackExactly) {
  for (size_t sector : {512u, 4096u}) {
    SCOPED_TRACE(sector);
    const std::map<std::string, std::string> files = {{"a.bin", Body(1 << 20, 1)}, {"b.txt", "hello luks2\n"}};
    auto img = Ext4LuksImage("img" + std::to_string(sector), sector, files);
    ASSERT_THAT(img, IsOk());
    ASSERT_TRUE(driver_->Mount(OpenOptions(*img), mnt_, {}).ok());
    EXPECT_TRUE(testutil::IsMountPoint(mnt_));
    for (const auto& [f, body] : files) EXPECT_TRUE(ReadText(mnt_ + "/" + f) == body) << f;
    ASSERT_TRUE(driver_->Unmount(mnt_, {}).ok());
    EXPECT_FALSE(testutil::IsMountPoint(mnt_));
  }
}

// Files written through the mount decrypt with the volume key `cryptsetup luksDump
// --dump-volume-key` printed: decrypt the whole segment with that key through the naive
// reference loop (not the engine) and read the file out of the plaintext with debugfs.
TEST_F(BlockDeviceDriverTest, WritesThroughTheMountDecryptWithTheDumpedVolumeKey) {
  auto img = Ext4LuksImage("w", 4096, {{"old.txt", "old\n"}});
  ASSERT_THAT(img, IsOk());
  ASSERT_TRUE(driver_->Mount(OpenOptions(*img), mnt_, {}).ok());
  const std::string body = Body(3 << 20, 7);
  WriteText(mnt_ + "/new.bin", body);
  sync();
  ASSERT_TRUE(driver_->Unmount(mnt_, {}).ok());

  auto ct = testutil::ReadAt(img->path, img->data_offset, img->plaintext.size());
  ASSERT_THAT(ct, IsOk());
  std::vector<uint8_t> pt(ct->size());
  ASSERT_TRUE(
      crypto::XtsCryptSectorsRekeyingEachSector(img->volume_key, crypto::XtsDirection::kDecrypt, *ct, pt, 4096, 0, 8)
          .ok());
  const std::string plain = dir_.File("w.decrypted");
  WriteText(plain, std::string(pt.begin(), pt.end()));
  const std::string out = dir_.File("new.out");
  std::string log;
  auto rc = RunProgram({"debugfs", "-R", "dump /new.bin " + out, plain}, &log);
  ASSERT_TRUE(rc.ok() && *rc == 0) << log;
  EXPECT_TRUE(ReadText(out) == body);
}

TEST_F(BlockDeviceDriverTest, FreshVolumeSurvivesUnmountAndRemount) {
  const std::string dev = dir_.File("fresh.img");
  { std::ofstream f(dev); }
  ASSERT_EQ(truncate(dev.c_str(), 64 << 20), 0);
  const std::string keyfile = dir_.File("fresh.key");
  WriteText(keyfile, Body(64, 3));
  Options o = {{"devicePath", dev},          {"sourceType", "empty"},      {"encryptionType", "luks2"},
               {"targetType", "fileSystem"}, {"key", "file://" + keyfile}, {"mkfsOpts", "-E lazy_journal_init"}};
  ASSERT_TRUE(driver_->Mount(o, mnt_, {}).ok());
  const std::string body = Body(2 << 20, 9);
  WriteText(mnt_ + "/kept.bin", body);
  // The same request again while mounted is OK and does not format a second time.
  ASSERT_TRUE(driver_->Mount(o, mnt_, {}).ok());
  EXPECT_TRUE(ReadText(mnt_ + "/kept.bin") == body);
  // A different request for the same target is refused.
  Options other = o;
  other["mkfsOpts"] = "-m 0";
  EXPECT_THAT(driver_->Mount(other, mnt_, {}), StatusIs(absl::StatusCode::kFailedPrecondition));
  // So is formatting the same device again at another target while it is mounted.
  const std::string mnt2 = dir_.File("mnt2");
  std::filesystem::create_directory(mnt2);
  EXPECT_THAT(driver_->Mount(o, mnt2, {}), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_FALSE(testutil::IsMountPoint(mnt2));
  EXPECT_TRUE(ReadText(mnt_ + "/kept.bin") == body);
  ASSERT_TRUE(driver_->Unmount(mnt_, {}).ok());
  // The device holds ciphertext only: the body is not on it in the clear.
  EXPECT_EQ(ReadText(dev).find(body.substr(0, 4096)), std::string::npos);

  o["sourceType"] = "encrypted";
  ASSERT_TRUE(driver_->Mount(o, mnt_, {}).ok());
  EXPECT_TRUE(ReadText(mnt_ + "/kept.bin") == body);
  ASSERT_TRUE(driver_->Unmount(mnt_, {}).ok());
  EXPECT_THAT(driver_->Unmount(mnt_, {}), StatusIs(absl::StatusCode::kNotFound));
}

// The failing input: sourceType=empty on /dev/loopN, Unmount, then a different LUKS2 volume at
// the same loop device (same path, same device number: its content replaced), opened with
// sourceType=encrypted and a key that also opens the first volume's keyslot. It must open the
// new volume's own header and give its plaintext, never a device decrypted with the old header.
TEST_F(BlockDeviceDriverTest, EmptyVolumeHeaderNeverOpensTheNextVolumeAtThatDevice) {
  auto next = MakeLuksImage(dir_, "next", {.plaintext_bytes = 1 << 20, .sector_size = 4096});
  ASSERT_THAT(next, IsOk());
  const std::string keyfile = next->path + ".key0";  // one key for both volumes
  const std::string backing = dir_.File("loop.img");
  { std::ofstream f(backing); }
  ASSERT_EQ(truncate(backing.c_str(), 64 << 20), 0);
  auto loop = LoopDevice::Attach(backing, 4096, /*read_only=*/false);
  if (!loop.ok()) GTEST_SKIP() << loop.status();
  const std::string link = dir_.File("devlink");
  Options o = {{"devicePath", (*loop)->path()},
               {"sourceType", "empty"},
               {"encryptionType", "luks2"},
               {"targetType", "device"},
               {"key", "file://" + keyfile}};
  ASSERT_THAT(driver_->Mount(o, link, {}), IsOk());
  ASSERT_THAT(driver_->Unmount(link, {}), IsOk());
  ASSERT_FALSE(std::filesystem::is_empty(dir_.File("headers")));  // kept, bound to the device

  // The other volume, written through the loop device itself: same /dev/loopN, same rdev.
  auto image = testutil::ReadAt(next->path, 0, static_cast<size_t>(std::filesystem::file_size(next->path)));
  ASSERT_THAT(image, IsOk());
  {
    int fd = open((*loop)->path().c_str(), O_WRONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(pwrite(fd, image->data(), image->size(), 0), static_cast<ssize_t>(image->size()));
    ASSERT_EQ(fsync(fd), 0);
    close(fd);
  }
  o["sourceType"] = "encrypted";
  ASSERT_THAT(driver_->Mount(o, link, {}), IsOk());
  auto head = testutil::ReadAt(link, 0, next->plaintext.size());
  ASSERT_THAT(head, IsOk());
  EXPECT_TRUE(*head == next->plaintext) << "opened with a header that is not the volume's own";
  ASSERT_THAT(driver_->Unmount(link, {}), IsOk());
  EXPECT_TRUE(std::filesystem::is_empty(dir_.File("headers"))) << "the unbound header was kept";
  (*loop)->Release();
}

// The same, with the other volume attached as another file at the same loop device (a new
// disk sequence number): the kept header is not this disk's.
TEST_F(BlockDeviceDriverTest, EmptyVolumeHeaderNeverOpensADiskAttachedLaterAtThatLoopDevice) {
  auto next = MakeLuksImage(dir_, "next", {.plaintext_bytes = 1 << 20, .sector_size = 4096});
  ASSERT_THAT(next, IsOk());
  const std::string keyfile = next->path + ".key0";
  const std::string backing = dir_.File("loop.img");
  { std::ofstream f(backing); }
  ASSERT_EQ(truncate(backing.c_str(), 64 << 20), 0);
  auto first = LoopDevice::Attach(backing, 4096, /*read_only=*/false);
  if (!first.ok()) GTEST_SKIP() << first.status();
  const std::string loop_path = (*first)->path();
  const std::string link = dir_.File("devlink");
  Options o = {{"devicePath", loop_path},
               {"sourceType", "empty"},
               {"encryptionType", "luks2"},
               {"targetType", "device"},
               {"key", "file://" + keyfile}};
  ASSERT_THAT(driver_->Mount(o, link, {}), IsOk());
  ASSERT_THAT(driver_->Unmount(link, {}), IsOk());
  (*first)->Release();
  // The same size as the first disk, so only the identity tells them apart.
  ASSERT_EQ(truncate(next->path.c_str(), 64 << 20), 0);
  auto second = LoopDevice::Attach(next->path, 4096, /*read_only=*/false);
  ASSERT_THAT(second, IsOk());
  if ((*second)->path() != loop_path) GTEST_SKIP() << "another process took " << loop_path << " in between";
  o["sourceType"] = "encrypted";
  ASSERT_THAT(driver_->Mount(o, link, {}), IsOk());
  auto head = testutil::ReadAt(link, 0, next->plaintext.size());
  ASSERT_THAT(head, IsOk());
  EXPECT_TRUE(*head == next->plaintext) << "opened with a header that is not the volume's own";
  ASSERT_THAT(driver_->Unmount(link, {}), IsOk());
  (*second)->Release();
}

// Error classes (docs/errors.md): the caller's device that cannot hold whole sectors is
// INVALID_ARGUMENT; an ext4 mount that fails after a good unlock is FAILED_PRECONDITION (a retry
// cannot help), not UNAVAILABLE.
TEST_F(BlockDeviceDriverTest, ErrorClassesOfEmptyAndOfTheMountStep) {
  const std::string odd = dir_.File("odd.img");
  { std::ofstream f(odd); }
  ASSERT_EQ(truncate(odd.c_str(), (64 << 20) + 512), 0);
  const std::string keyfile = dir_.File("odd.key");
  WriteText(keyfile, Body(64, 5));
  Options o = {{"devicePath", odd},
               {"sourceType", "empty"},
               {"encryptionType", "luks2"},
               {"targetType", "fileSystem"},
               {"key", "file://" + keyfile}};
  EXPECT_THAT(driver_->Mount(o, mnt_, {}), StatusIs(absl::StatusCode::kInvalidArgument, "4096-byte sectors"));
  EXPECT_TRUE(!std::filesystem::exists(dir_.File("headers")) || std::filesystem::is_empty(dir_.File("headers")));

  auto not_ext4 = MakeLuksImage(dir_, "notext4", {.plaintext_bytes = 4 << 20, .sector_size = 4096});
  ASSERT_THAT(not_ext4, IsOk());
  EXPECT_THAT(driver_->Mount(OpenOptions(*not_ext4), mnt_, {}),
              StatusIs(absl::StatusCode::kFailedPrecondition, "ext4"));
  EXPECT_FALSE(testutil::IsMountPoint(mnt_));
}

// A caller that gave up and retried while the first call is still running: both calls
// succeed, the volume is formatted and mounted once.
TEST_F(BlockDeviceDriverTest, ConcurrentRetriesOnOneTargetFormatAndMountOnce) {
  const std::string dev = dir_.File("conc.img");
  { std::ofstream f(dev); }
  ASSERT_EQ(truncate(dev.c_str(), 48 << 20), 0);
  Options o = {{"devicePath", dev}, {"sourceType", "empty"}, {"encryptionType", "luks2"}, {"targetType", "fileSystem"}};
  absl::Status a, b;
  std::thread t1([&] { a = driver_->Mount(o, mnt_, {}); });
  std::thread t2([&] { b = driver_->Mount(o, mnt_, CallContext::WithTimeout(absl::Seconds(60))); });
  t1.join();
  t2.join();
  EXPECT_THAT(a, IsOk());
  EXPECT_THAT(b, IsOk());
  std::ifstream f("/proc/self/mountinfo");
  int mounts = 0;
  for (std::string line; std::getline(f, line);) mounts += line.find(" " + mnt_ + " ") != std::string::npos;
  EXPECT_EQ(mounts, 1);
}

TEST_F(BlockDeviceDriverTest, TargetTypeDeviceGivesThePlaintextBlockDevice) {
  auto img = MakeLuksImage(dir_, "dev", {.plaintext_bytes = 1 << 20, .sector_size = 4096});
  ASSERT_THAT(img, IsOk());
  Options o = OpenOptions(*img);
  o["targetType"] = "device";
  const std::string link = dir_.File("devlink");
  ASSERT_TRUE(driver_->Mount(o, link, {}).ok());
  auto head = testutil::ReadAt(link, 0, img->plaintext.size());
  ASSERT_THAT(head, IsOk());
  EXPECT_TRUE(*head == img->plaintext);
  ASSERT_TRUE(driver_->Unmount(link, {}).ok());
  struct stat st;
  EXPECT_NE(lstat(link.c_str(), &st), 0);
}

TEST_F(BlockDeviceDriverTest, RefusalsLeaveNothingMounted) {
  auto img = Ext4LuksImage("bad", 512, {{"x", "y"}});
  ASSERT_THAT(img, IsOk());
  auto expect_refused = [&](const Options& o, absl::StatusCode code, const char* what) {
    auto s = driver_->Mount(o, mnt_, {});
    EXPECT_THAT(s, StatusIs(code)) << what;
    EXPECT_FALSE(testutil::IsMountPoint(mnt_)) << what;
    EXPECT_TRUE(!std::filesystem::exists(dir_.File("run")) || std::filesystem::is_empty(dir_.File("run"))) << what;
  };
  Options wrong_key = OpenOptions(*img);
  WriteText(dir_.File("wrong.key"), "wrong");
  wrong_key["key"] = "file://" + dir_.File("wrong.key");
  expect_refused(wrong_key, absl::StatusCode::kPermissionDenied, "wrong key");
  Options integrity = OpenOptions(*img);
  integrity["dataIntegrity"] = "true";
  expect_refused(integrity, absl::StatusCode::kFailedPrecondition, "dataIntegrity");
  Options bad = OpenOptions(*img);
  bad["targetType"] = "filesystem";
  expect_refused(bad, absl::StatusCode::kInvalidArgument, "bad option");
  Options no_key = OpenOptions(*img);
  no_key["key"] = "kbs:///default/k/1";  // no resolver configured
  expect_refused(no_key, absl::StatusCode::kFailedPrecondition, "no resolver");

  // Hostile header written onto the device by the host: null cipher. Refused, not mounted.
  auto region = testutil::ReadAt(img->path, 0, 16 << 20);
  ASSERT_THAT(region, IsOk());
  const std::string original(region->begin(), region->end());
  const size_t hs = 16384;
  ASSERT_TRUE(testutil::WriteAt(
                  img->path, 0,
                  testutil::EditLuks2Json(
                      original, hs, [](nlohmann::json& j) { j["segments"]["0"]["encryption"] = "cipher_null-ecb"; }))
                  .ok());
  expect_refused(OpenOptions(*img), absl::StatusCode::kInvalidArgument, "null cipher");
  ASSERT_TRUE(testutil::WriteAt(img->path, 0,
                                testutil::EditLuks2Json(original, hs,
                                                        [](nlohmann::json& j) {
                                                          j["keyslots"]["0"]["kdf"] = {{"type", "argon2id"},
                                                                                       {"time", 4},
                                                                                       {"memory", 4194304},
                                                                                       {"cpus", 1},
                                                                                       {"salt", "AAAA"}};
                                                        }))
                  .ok());
  expect_refused(OpenOptions(*img), absl::StatusCode::kInvalidArgument, "argon2 4 GiB");
  // An integrity volume (AES-128-XTS + HMAC key) cannot be read without dm-integrity: refused
  // on this path before any key derivation, instead of mounting tags as data.
  ASSERT_TRUE(testutil::WriteAt(img->path, 0,
                                testutil::EditLuks2Json(original, hs,
                                                        [](nlohmann::json& j) {
                                                          j["segments"]["0"]["integrity"] = {
                                                              {"type", "hmac(sha256)"},
                                                              {"journal_encryption", "none"},
                                                              {"journal_integrity", "none"}};
                                                        }))
                  .ok());
  expect_refused(OpenOptions(*img), absl::StatusCode::kFailedPrecondition, "integrity volume");
  // Restored, it mounts: the refusals above were about the header, not the setup.
  ASSERT_TRUE(testutil::WriteAt(img->path, 0, original).ok());
  ASSERT_TRUE(driver_->Mount(OpenOptions(*img), mnt_, {}).ok());
  EXPECT_EQ(ReadText(mnt_ + "/x"), "y");
}

// A failure after the data path is open (here: mkfs.ext4 rejects the caller's mkfsOpts, and a
// LUKS2 volume whose plaintext is no filesystem fails to mount) is rolled back without crashing
// the daemon: the undo steps ran after the volume they point into had been freed (review).
TEST_F(BlockDeviceDriverTest, FailuresAfterTheDataPathIsOpenRollBackCleanly) {
  const std::string dev = dir_.File("late.img");
  { std::ofstream f(dev); }
  ASSERT_EQ(truncate(dev.c_str(), 64 << 20), 0);
  const std::string keyfile = dir_.File("late.key");
  WriteText(keyfile, Body(64, 5));
  Options o = {{"devicePath", dev},          {"sourceType", "empty"},      {"encryptionType", "luks2"},
               {"targetType", "fileSystem"}, {"key", "file://" + keyfile}, {"mkfsOpts", "-b 999"}};
  auto s = driver_->Mount(o, mnt_, {});
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument)) << s;
  EXPECT_FALSE(testutil::IsMountPoint(mnt_));
  // A valid LUKS2 volume whose plaintext holds no filesystem: unlocks, then the mount fails.
  o["mkfsOpts"] = "-n";  // mkfs.ext4 -n: a dry run that writes nothing
  s = driver_->Mount(o, mnt_, {});
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition, "ext4")) << s;  // not retryable
  EXPECT_FALSE(testutil::IsMountPoint(mnt_));
  EXPECT_TRUE(!std::filesystem::exists(dir_.File("run")) || std::filesystem::is_empty(dir_.File("run")));
  // And the driver still works afterwards.
  o["mkfsOpts"] = "";
  ASSERT_TRUE(driver_->Mount(o, mnt_, {}).ok());
  ASSERT_TRUE(driver_->Unmount(mnt_, {}).ok());
}

// Mount points are recorded with symlinks resolved: swapping a symlink between mount and
// unmount cannot make the daemon unmount one volume while it thinks it unmounted another, and the
// same device cannot be mounted twice through another path.
TEST_F(BlockDeviceDriverTest, SymlinkedMountPointsAndDevicePathsAreResolved) {
  auto img = Ext4LuksImage("sym", 512, {{"f", "data"}});
  ASSERT_THAT(img, IsOk());
  const std::string link = dir_.File("link");
  std::filesystem::create_directory_symlink(mnt_, link);
  ASSERT_TRUE(driver_->Mount(OpenOptions(*img), link, {}).ok());
  EXPECT_TRUE(testutil::IsMountPoint(mnt_));
  // The same image through a symlinked device path is the same device: refused.
  const std::string other = dir_.File("mnt-other");
  std::filesystem::create_directory(other);
  const std::string dev_link = dir_.File("dev-link");
  std::filesystem::create_symlink(img->path, dev_link);
  Options again = OpenOptions(*img);
  again["devicePath"] = dev_link;
  EXPECT_THAT(driver_->Mount(again, other, {}), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_FALSE(testutil::IsMountPoint(other));
  // Kernel pseudo-filesystems are refused as targets.
  EXPECT_THAT(driver_->Mount(OpenOptions(*img), "/proc/self", {}), StatusIs(absl::StatusCode::kInvalidArgument));
  // Unmount through the canonical path works even after the symlink moved away.
  std::filesystem::remove(link);
  ASSERT_TRUE(driver_->Unmount(mnt_, {}).ok());
  EXPECT_FALSE(testutil::IsMountPoint(mnt_));
}

// deviceId "MAJ:MIN" resolves through <sysfs>/dev/block/MAJ:MIN/uevent (DEVNAME=…) as upstream
// does; a fake sysfs and dev directory stand in for the kernel's here.
TEST_F(BlockDeviceDriverTest, DeviceIdResolvesThroughSysfs) {
  auto img = Ext4LuksImage("byid", 4096, {{"id.txt", "by id\n"}});
  ASSERT_THAT(img, IsOk());
  std::filesystem::create_directories(dir_.File("sys/dev/block/254:16"));
  WriteText(dir_.File("sys/dev/block/254:16/uevent"), "MAJOR=254\nMINOR=16\nDEVNAME=byid\nDEVTYPE=disk\n");
  auto d = BlockDeviceDriver::New({.header_dir = dir_.File("headers2"),
                                   .runtime_dir = dir_.File("run2"),
                                   .sysfs_dir = dir_.File("sys"),
                                   .dev_dir = dir_.path()},
                                  NewUserspaceDataPath({.runtime_dir = dir_.File("run2")}), nullptr);
  ASSERT_THAT(d, IsOk());
  Options o = OpenOptions(*img);
  o.erase("devicePath");
  o["deviceId"] = "254:16";
  ASSERT_TRUE((*d)->Mount(o, mnt_, {}).ok());
  EXPECT_EQ(ReadText(mnt_ + "/id.txt"), "by id\n");
  ASSERT_TRUE((*d)->Unmount(mnt_, {}).ok());
  o["deviceId"] = "254:17";
  EXPECT_THAT((*d)->Mount(o, mnt_, {}), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(BlockDeviceDriverTest, UnmountAllTearsEverythingDown) {
  auto img = Ext4LuksImage("all", 4096, {{"f", "g"}});
  ASSERT_THAT(img, IsOk());
  ASSERT_TRUE(driver_->Mount(OpenOptions(*img), mnt_, {}).ok());
  driver_->UnmountAll();
  EXPECT_FALSE(testutil::IsMountPoint(mnt_));
  EXPECT_TRUE(std::filesystem::is_empty(dir_.File("run")));
}

}  // namespace
}  // namespace cdh::storage
