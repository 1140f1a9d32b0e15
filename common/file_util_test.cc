#include "common/file_util.h"

#include <sys/stat.h>

#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cdh {
namespace {

using ::cdh::testing::IsOk;
using ::cdh::testing::StatusIs;
using ::cdh::testing::TempDir;

TEST(FileUtilTest, WriteAtomicCreatesParentsWithMode) {
  TempDir dir("cdh-fileutil");
  std::string path = dir.File("a/b/secret.bin");
  ASSERT_THAT(WriteFileAtomic(path, "hello", 0600), IsOk());
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(*ReadFileBounded(path, 100), "hello");
}

TEST(FileUtilTest, ReadBoundedRefusesLargeAndMissingAndDirectories) {
  TempDir dir("cdh-fileutil");
  ASSERT_THAT(WriteFileAtomic(dir.File("f"), std::string(100, 'x'), 0600), IsOk());
  EXPECT_THAT(ReadFileBounded(dir.File("f"), 99), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ReadFileBounded(dir.File("f"), 100), IsOk());
  EXPECT_THAT(ReadFileBounded(dir.File("missing"), 100), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(ReadFileBounded(dir.path(), 100), StatusIs(absl::StatusCode::kInvalidArgument));
}

// Reads are sized by the stat (plus one byte to see the end), then by 16 KiB chunks: every size
// around those boundaries comes back whole.
TEST(FileUtilTest, ReadsWholeFilesOfEverySizeAroundTheChunk) {
  TempDir dir("cdh-fileutil");
  for (size_t size : {0, 1, 32, 16383, 16384, 16385, 40000}) {
    std::string content(size, '\0');
    for (size_t i = 0; i < size; ++i) content[i] = static_cast<char>('a' + i % 26);
    ASSERT_THAT(WriteFileAtomic(dir.File("f"), content, 0600), IsOk());
    auto text = ReadFileBounded(dir.File("f"), size);
    ASSERT_THAT(text, IsOk()) << size;
    EXPECT_EQ(*text, content) << size;
    auto secret = ReadSecretFile(dir.File("f"), 1 << 20);
    ASSERT_THAT(secret, IsOk()) << size;
    EXPECT_EQ(secret->RevealString(), content) << size;
  }
}

// A FIFO where a file is expected must be refused at once, not block the reader forever.
TEST(FileUtilTest, FifoIsRefusedWithoutBlocking) {
  TempDir dir("cdh-fileutil");
  std::string fifo = dir.File("fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_THAT(ReadFileBounded(fifo, 100), StatusIs(absl::StatusCode::kInvalidArgument, "not a regular file"));
}

// Real kernel files with the kernel's sizes: sysfs announces 4096 bytes for a text attribute,
// procfs 0; ReadPseudoFile reads their content whatever the announced size.
TEST(ReadPseudoFileTest, IgnoresTheKernelsAnnouncedSize) {
  struct stat st;
  const std::string sysfs = "/sys/devices/system/cpu/online";
  if (stat(sysfs.c_str(), &st) != 0) GTEST_SKIP() << "no sysfs here";
  ASSERT_GT(st.st_size, 64) << "sysfs announces a page for a text attribute";
  auto online = ReadPseudoFile(sysfs, 64);
  ASSERT_THAT(online, IsOk());
  EXPECT_FALSE(online->empty());
  EXPECT_EQ(online->back(), '\n');

  ASSERT_EQ(stat("/proc/self/status", &st), 0);
  ASSERT_EQ(st.st_size, 0) << "procfs announces 0 bytes";
  auto status = ReadPseudoFile("/proc/self/status", 1 << 16);
  ASSERT_THAT(status, IsOk());
  EXPECT_THAT(*status, ::testing::HasSubstr("Pid:"));
}

TEST(ReadPseudoFileTest, LimitAppliesToTheContentRead) {
  TempDir dir("cdh-fileutil");
  ASSERT_THAT(WriteFileAtomic(dir.File("f"), std::string(5000, 'x'), 0600), IsOk());
  EXPECT_THAT(ReadPseudoFile(dir.File("f"), 4999), StatusIs(absl::StatusCode::kResourceExhausted, "4999"));
  auto whole = ReadPseudoFile(dir.File("f"), 5000);
  ASSERT_THAT(whole, IsOk());
  EXPECT_EQ(whole->size(), 5000u);
  EXPECT_THAT(ReadPseudoFile("/proc/self/status", 8), StatusIs(absl::StatusCode::kResourceExhausted, "status"));
  EXPECT_THAT(ReadPseudoFile(dir.File("missing"), 10), StatusIs(absl::StatusCode::kNotFound, "missing"));
  EXPECT_THAT(ReadPseudoFile(dir.path(), 10), StatusIs(absl::StatusCode::kInvalidArgument, "not a regular file"));
  std::string fifo = dir.File("fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_THAT(ReadPseudoFile(fifo, 10), StatusIs(absl::StatusCode::kInvalidArgument, "not a regular file"));
}

}  // namespace
}  // namespace cdh
