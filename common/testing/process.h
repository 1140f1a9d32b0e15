// The one process runner of the tests: RunCommand for a program that runs to completion with
// its output captured, ChildProcess for a long-running one (a daemon, swtpm, a broker).
// Programs are started with posix_spawn (argv[0] is a path: no PATH search, no shell), so no
// argument is ever interpreted. Waiting is event-driven (pidfd and pipe readiness), not polled.
#ifndef CDH_COMMON_TESTING_PROCESS_H_
#define CDH_COMMON_TESTING_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace cdh::testing {

struct CommandResult {
  int exit_code = -1;  // -1 if it could not start, was killed by a signal or timed out
  std::string out;     // everything it wrote to stdout
  std::string err;     // everything it wrote to stderr (or why it could not start)
};

// Runs argv[0] with `argv` and the test's environment, `input` on stdin, and waits at most
// `timeout` (then SIGKILL).
CommandResult RunCommand(const std::vector<std::string>& argv, std::string_view input = "",
                         absl::Duration timeout = absl::Seconds(60));
// As above with the timeout in whole seconds.
inline CommandResult RunCommand(const std::vector<std::string>& argv, std::string_view input, int timeout_seconds) {
  return RunCommand(argv, input, absl::Seconds(timeout_seconds));
}

struct ChildProcessOptions {
  // The child's environment, "NAME=value" entries; std::nullopt inherits the test's.
  std::optional<std::vector<std::string>> env;
  // File that receives the child's stderr (and stdout, when `log_stdout`), opened for append
  // with mode 0600; std::nullopt leaves both inherited. stdin is /dev/null.
  std::optional<std::string> log_path;
  bool log_stdout = true;
};

// A started child process. Neither copyable nor movable; not thread-safe (one test thread
// drives it). The destructor kills (SIGKILL) and reaps a child still running.
class ChildProcess {
 public:
  // UNAVAILABLE when the program cannot be started (e.g. no such file).
  static absl::StatusOr<std::unique_ptr<ChildProcess>> Start(const std::vector<std::string>& argv,
                                                             const ChildProcessOptions& options = {});
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // False once the child has exited (it is then reaped).
  bool Running();
  // Sends `sig` while the child runs.
  void Signal(int sig);
  // Waits at most `timeout` for the child to exit. Its exit code; -1 when a signal ended it;
  // std::nullopt when it is still running after `timeout`.
  std::optional<int> Wait(absl::Duration timeout);
  // SIGTERM, then SIGKILL after `grace`. The exit code, or -1 (signal, or killed after `grace`).
  int Stop(absl::Duration grace);
  // SIGKILL and reap.
  void Kill();

 private:
  ChildProcess(pid_t pid, int pidfd) : pid_(pid), pidfd_(pidfd) {}
  void Reaped(int status);

  const pid_t pid_;
  const int pidfd_;                 // readable once the child exits; -1 if the kernel has no pidfd_open
  std::optional<int> wait_status_;  // set once reaped
};

}  // namespace cdh::testing

#endif  // CDH_COMMON_TESTING_PROCESS_H_
