// TempDir: the one temporary-directory helper of the tests (and ReadFile, its reading side).
// A fresh directory under $TMPDIR (or /tmp), created by the constructor with mode 0700 and removed recursively by the
// destructor. Neither copyable nor movable; not thread-safe (one test owns it).
#ifndef CDH_COMMON_TESTING_TEMP_DIR_H_
#define CDH_COMMON_TESTING_TEMP_DIR_H_

#include <string>
#include <string_view>

namespace cdh::testing {

class TempDir {
 public:
  // `prefix` names the directory (<tmp>/<prefix>-XXXXXX) so leftovers can be traced to a test.
  // A directory that cannot be created is a test failure (ADD_FAILURE), and path() is "".
  explicit TempDir(std::string_view prefix = "cdh-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // Absolute path of the directory, without a trailing '/'.
  const std::string& path() const { return path_; }
  // path() + "/" + name; nothing is created.
  std::string File(std::string_view name) const;
  // Writes `content` to File(name) (mode 0644), creating parent directories; returns the path.
  // A write failure is a test failure (ADD_FAILURE).
  std::string Write(std::string_view name, std::string_view content) const;

 private:
  std::string path_;
};

// The whole content of `path`; "" when it cannot be read.
std::string ReadFile(const std::string& path);

}  // namespace cdh::testing

#endif  // CDH_COMMON_TESTING_TEMP_DIR_H_
