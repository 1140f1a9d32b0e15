#include "common/testing/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "absl/time/clock.h"

extern char** environ;

namespace cdh::testing {
namespace {

// poll() timeout in milliseconds for the time left until `deadline` (rounded up, capped).
int PollTimeoutMs(absl::Time deadline) {
  absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) return 0;
  return static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(left) + 1, 60'000));
}

std::vector<char*> CStrings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (const std::string& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

}  // namespace

CommandResult RunCommand(const std::vector<std::string>& argv, std::string_view input, absl::Duration timeout) {
  CommandResult result;
  if (argv.empty()) {
    result.err = "empty argv";
    return result;
  }
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) != 0) return result;
  if (pipe2(out, O_CLOEXEC) != 0) {
    close(in[0]);
    close(in[1]);
    return result;
  }
  if (pipe2(err, O_CLOEXEC) != 0) {
    for (int fd : {in[0], in[1], out[0], out[1]}) close(fd);
    return result;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err[1], 2);
  std::vector<char*> args = CStrings(argv);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  close(in[0]);
  close(out[1]);
  close(err[1]);
  if (rc != 0) {
    close(in[1]);
    close(out[0]);
    close(err[0]);
    result.err = std::string("spawn failed: ") + std::strerror(rc);
    return result;
  }
  // stdin is fed by its own thread so that a child writing a lot before reading cannot
  // deadlock against us.
  std::string stdin_bytes(input);
  std::thread writer([fd = in[1], &stdin_bytes] {
    size_t off = 0;
    while (off < stdin_bytes.size()) {
      ssize_t n = write(fd, stdin_bytes.data() + off, stdin_bytes.size() - off);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
    close(fd);
  });
  absl::Time deadline = absl::Now() + timeout;
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  int open_fds = 2;
  char buf[4096];
  while (open_fds > 0) {
    int ready = poll(fds, 2, PollTimeoutMs(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) break;  // timed out
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      ssize_t n = read(fds[i].fd, buf, sizeof(buf));
      if (n <= 0) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      } else {
        (i == 0 ? result.out : result.err).append(buf, static_cast<size_t>(n));
      }
    }
  }
  if (open_fds > 0) kill(pid, SIGKILL);
  for (pollfd& f : fds) {
    if (f.fd >= 0) close(f.fd);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  writer.join();  // the child is gone: a blocked write has failed with EPIPE
  result.exit_code = open_fds == 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

absl::StatusOr<std::unique_ptr<ChildProcess>> ChildProcess::Start(const std::vector<std::string>& argv,
                                                                  const ChildProcessOptions& options) {
  if (argv.empty()) return absl::InvalidArgumentError("empty argv");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  if (options.log_path.has_value()) {
    posix_spawn_file_actions_addopen(&fa, 2, options.log_path->c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (options.log_stdout) posix_spawn_file_actions_adddup2(&fa, 2, 1);
  }
  std::vector<char*> args = CStrings(argv);
  std::vector<char*> env;
  if (options.env.has_value()) env = CStrings(*options.env);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, args[0], &fa, nullptr, args.data(), options.env.has_value() ? env.data() : environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return absl::UnavailableError(argv[0] + ": spawn failed: " + std::strerror(rc));
  // glibc's <sys/pidfd.h> lacks extern "C" in Debian 12; the system call is the same.
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  return std::unique_ptr<ChildProcess>(new ChildProcess(pid, pidfd));
}

ChildProcess::~ChildProcess() {
  if (Running()) Kill();
  if (pidfd_ >= 0) close(pidfd_);
}

void ChildProcess::Reaped(int status) { wait_status_ = status; }

bool ChildProcess::Running() {
  if (wait_status_.has_value()) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    Reaped(status);
    return false;
  }
  return true;
}

void ChildProcess::Signal(int sig) {
  if (Running()) kill(pid_, sig);
}

std::optional<int> ChildProcess::Wait(absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (Running()) {
    if (absl::Now() >= deadline) return std::nullopt;
    if (pidfd_ >= 0) {
      pollfd p{pidfd_, POLLIN, 0};
      poll(&p, 1, PollTimeoutMs(deadline));
    } else {
      // No pidfd (kernel < 5.3): the child's exit is only observable by polling.
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  return WIFEXITED(*wait_status_) ? WEXITSTATUS(*wait_status_) : -1;
}

int ChildProcess::Stop(absl::Duration grace) {
  Signal(SIGTERM);
  if (std::optional<int> code = Wait(grace); code.has_value()) return *code;
  Kill();
  return -1;
}

void ChildProcess::Kill() {
  if (!Running()) return;
  kill(pid_, SIGKILL);
  int status = 0;
  if (waitpid(pid_, &status, 0) == pid_) Reaped(status);
}

}  // namespace cdh::testing
