// FuseBlockImage over real cryptsetup images: unaligned reads and writes through the FUSE file
// match the plaintext, and what lands on the device decrypts (by the naive reference loop, not
// the engine) to the expected bytes. Needs root and /dev/fuse; skips otherwise.
#include "storage/fuse_block_image.h"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <random>
#include <thread>

#include "common/testing/status_matchers.h"
#include "crypto/xts_cipher.h"
#include "gtest/gtest.h"
#include "storage/testing/luks_image.h"

namespace cdh::storage {
namespace {

using ::cdh::testing::IsOk;

TEST(FuseBlockImageTest, UnalignedReadsAndWritesRoundTripThroughTheDevice) {
  if (geteuid() != 0 || access("/dev/fuse", R_OK | W_OK) != 0) GTEST_SKIP() << "needs root and /dev/fuse";
  testutil::TempDir dir;
  for (size_t sector : {512u, 4096u}) {
    SCOPED_TRACE(sector);
    auto img =
        testutil::MakeLuksImage(dir, "f" + std::to_string(sector), {.plaintext_bytes = 1 << 20, .sector_size = sector});
    ASSERT_THAT(img, IsOk());
    auto engine = XtsEngine::New(img->volume_key, {.sector_size = sector, .threads = 2, .min_parallel_bytes = 8192});
    ASSERT_THAT(engine, IsOk());
    const int dev = open(img->path.c_str(), O_RDWR | O_CLOEXEC);
    ASSERT_GE(dev, 0);
    const std::string mnt = dir.File("fuse" + std::to_string(sector));
    std::filesystem::create_directory(mnt);
    const uint64_t size = img->plaintext.size();  // segment size used here: the known plaintext
    auto image = FuseBlockImage::Start(
        {.mount_dir = mnt, .device_fd = dev, .data_offset = img->data_offset, .data_size = size, .sector_size = sector},
        engine->get());
    ASSERT_THAT(image, IsOk());
    const int f = open((*image)->image_path().c_str(), O_RDWR | O_CLOEXEC);
    ASSERT_GE(f, 0);
    EXPECT_EQ(lseek(f, 0, SEEK_END), static_cast<off_t>(size));

    std::vector<uint8_t> expected = img->plaintext;
    std::mt19937_64 rng(sector);
    for (int i = 0; i < 40; ++i) {
      const uint64_t off = rng() % (size - 1);
      const size_t len = 1 + rng() % std::min<uint64_t>(70000, size - off);
      if (i % 2 == 0) {
        std::vector<uint8_t> got(len);
        ASSERT_EQ(pread(f, got.data(), len, static_cast<off_t>(off)), static_cast<ssize_t>(len));
        ASSERT_TRUE(std::equal(got.begin(), got.end(), expected.begin() + static_cast<long>(off))) << off << "+" << len;
      } else {
        std::vector<uint8_t> data(len);
        for (auto& b : data) b = static_cast<uint8_t>(rng());
        ASSERT_EQ(pwrite(f, data.data(), len, static_cast<off_t>(off)), static_cast<ssize_t>(len));
        std::copy(data.begin(), data.end(), expected.begin() + static_cast<long>(off));
      }
    }
    uint8_t byte;
    EXPECT_EQ(pread(f, &byte, 1, static_cast<off_t>(size)), 0);   // end of the segment
    EXPECT_LT(pwrite(f, &byte, 1, static_cast<off_t>(size)), 0);  // no growing
    close(f);
    (*image)->Stop();
    EXPECT_TRUE(std::filesystem::is_empty(mnt) || !std::filesystem::exists(mnt + "/image"));

    // The device now holds the edits, encrypted under the dumped volume key.
    auto ct = testutil::ReadAt(img->path, img->data_offset, size);
    ASSERT_THAT(ct, IsOk());
    std::vector<uint8_t> pt(size);
    ASSERT_TRUE(crypto::XtsCryptSectorsRekeyingEachSectorForTest(img->volume_key, crypto::XtsDirection::kDecrypt, *ct,
                                                                 pt, sector, 0, sector / 512)
                    .ok());
    EXPECT_TRUE(pt == expected);
    close(dev);
  }
}

// Threads of this process (/proc/self/task).
int CountThreads() {
  int n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/task")) ++n;
  return n;
}

// Shutdown while a user still holds the image (as a busy, lazily detached mount does): Abandon
// returns at once, the mount leaves the namespace, the open file is still served, and once that
// last user closes it the session ends and the image frees itself and its engine (their threads
// are gone). Under the sanitizers this is also the check that nothing is leaked or raced.
TEST(FuseBlockImageTest, AbandonedImageServesItsLastUserThenFreesItself) {
  if (geteuid() != 0 || access("/dev/fuse", R_OK | W_OK) != 0) GTEST_SKIP() << "needs root and /dev/fuse";
  testutil::TempDir dir;
  auto img = testutil::MakeLuksImage(dir, "abandon", {.plaintext_bytes = 1 << 20, .sector_size = 4096});
  ASSERT_THAT(img, IsOk());
  const int threads_before = CountThreads();
  auto engine = XtsEngine::New(img->volume_key, {.sector_size = 4096, .threads = 2, .min_parallel_bytes = 8192});
  ASSERT_THAT(engine, IsOk());
  const int dev = open(img->path.c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(dev, 0);
  const std::string mnt = dir.File("fuse");
  std::filesystem::create_directory(mnt);
  const uint64_t size = img->plaintext.size();
  auto image = FuseBlockImage::Start(
      {.mount_dir = mnt, .device_fd = dev, .data_offset = img->data_offset, .data_size = size, .sector_size = 4096},
      engine->get());
  ASSERT_THAT(image, IsOk());
  const int f = open((*image)->image_path().c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(f, 0);

  FuseBlockImage::Abandon(std::move(*image), std::move(*engine));
  EXPECT_FALSE(std::filesystem::exists(mnt + "/image"));  // out of the namespace already

  std::vector<uint8_t> got(size);
  ASSERT_EQ(pread(f, got.data(), size, 0), static_cast<ssize_t>(size));
  EXPECT_TRUE(got == img->plaintext);

  close(f);  // the last user: the FUSE superblock goes, and with it the session
  // The image's threads ending is observed in bounded steps (no notification exists for it).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (CountThreads() > threads_before && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(CountThreads(), threads_before);
  close(dev);
}

}  // namespace
}  // namespace cdh::storage
