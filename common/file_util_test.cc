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

// A FIFO where a file is expected must be refused at once, not block the reader forever.
TEST(FileUtilTest, FifoIsRefusedWithoutBlocking) {
  TempDir dir("cdh-fileutil");
  std::string fifo = dir.File("fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_THAT(ReadFileBounded(fifo, 100), StatusIs(absl::StatusCode::kInvalidArgument, "not a regular file"));
}

}  // namespace
}  // namespace cdh
