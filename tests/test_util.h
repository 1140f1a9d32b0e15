// Helpers for tests that run the real binaries: temp directories, child processes, and the
// daemon started on a socket under a temp directory. Not thread-safe; one per test.
#ifndef CDH_TESTS_TEST_UTIL_H_
#define CDH_TESTS_TEST_UTIL_H_

#include <sys/types.h>

#include <string>
#include <vector>

namespace cdh::testing {

// A fresh directory under $TMPDIR, removed (recursively) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Write(const std::string& name, const std::string& content) const;

 private:
  std::string path_;
};

// Absolute path of a built binary (build tree + relative path) and of a source file.
std::string BinaryPath(const std::string& relative);
std::string SourcePath(const std::string& relative);

struct CommandResult {
  int exit_code = -1;  // -1 if killed by a signal or timed out
  std::string out;
  std::string err;
};

// Runs argv[0] with argv, stdin from `input`, and waits up to `timeout_s` seconds.
CommandResult RunCommand(const std::vector<std::string>& argv, const std::string& input = "",
                         int timeout_s = 60);

// A running `confidential-data-hub` child process.
class Daemon {
 public:
  // Starts the daemon with `-c config_path`; `log_path` receives its stderr.
  Daemon(const std::string& config_path, const std::string& log_path);
  ~Daemon();  // SIGKILL if still running
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  pid_t pid() const { return pid_; }
  // Polls until a connection to `socket_path` succeeds or the process exits. False on exit or
  // after `timeout_s` seconds.
  bool WaitForSocket(const std::string& socket_path, int timeout_s = 20);
  // Waits for the process to exit (up to timeout_s) and returns its exit code (-1: signal/timeout).
  int Wait(int timeout_s = 20);
  void Signal(int sig);
  bool Running();

 private:
  pid_t pid_ = -1;
  int status_ = 0;
  bool exited_ = false;
};

std::string ReadFile(const std::string& path);

}  // namespace cdh::testing

#endif  // CDH_TESTS_TEST_UTIL_H_
