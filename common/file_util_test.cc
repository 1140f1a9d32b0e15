#include "common/file_util.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

namespace cdh {
namespace {

std::string TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "cdh-fileutil-XXXXXX").string();
  return mkdtemp(tmpl.data());
}

TEST(FileUtilTest, WriteAtomicCreatesParentsWithMode) {
  std::string dir = TempDir();
  std::string path = dir + "/a/b/secret.bin";
  ASSERT_TRUE(WriteFileAtomic(path, "hello", 0600).ok());
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(*ReadFileBounded(path, 100), "hello");
  std::filesystem::remove_all(dir);
}

TEST(FileUtilTest, ReadBoundedRefusesLargeAndMissingAndDirectories) {
  std::string dir = TempDir();
  ASSERT_TRUE(WriteFileAtomic(dir + "/f", std::string(100, 'x'), 0600).ok());
  EXPECT_EQ(ReadFileBounded(dir + "/f", 99).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(ReadFileBounded(dir + "/f", 100).ok());
  EXPECT_EQ(ReadFileBounded(dir + "/missing", 100).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ReadFileBounded(dir, 100).status().code(), absl::StatusCode::kInvalidArgument);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cdh
