#include "tests/ttrpc/test_daemon.h"

#include <signal.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "common/base64.h"
#include "common/strings.h"
#include "ttrpc/client.h"

namespace cdh::testing {
namespace fs = std::filesystem;
namespace {

void WriteText(const std::string& path, std::string_view text) { std::ofstream(path, std::ios::binary) << text; }

int CountEntries(const std::string& dir) {
  std::error_code ec;
  int n = 0;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) ++n;
  return ec ? -1 : n;
}

pid_t SpawnDaemon(const std::string& config_path, const std::string& log_path) {
  std::string binary = TestDaemon::DaemonPath();
  // A minimal environment, plus the sanitizers' options so sanitizer builds can be run.
  std::vector<std::string> env = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin"};
  for (const char* name : {"TSAN_OPTIONS", "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"}) {
    if (const char* v = std::getenv(name); v != nullptr) env.push_back(StrCat(name, "=", v));
  }
  std::vector<const char*> envp;
  for (const std::string& e : env) envp.push_back(e.c_str());
  envp.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid != 0) return pid;
  // Child: only async-signal-safe calls until exec.
  int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log >= 0) {
    ::dup2(log, 1);
    ::dup2(log, 2);
  }
  int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (devnull >= 0) ::dup2(devnull, 0);  // dup2 clears close-on-exec on 0 only
  const char* argv[] = {binary.c_str(), "-c", config_path.c_str(), "--kernel-cmdline", "/dev/null", nullptr};
  ::execve(binary.c_str(), const_cast<char* const*>(argv), const_cast<char* const*>(envp.data()));
  ::_exit(127);
}

}  // namespace

std::string TestDaemon::DaemonPath() { return CDH_DAEMON_PATH; }

absl::StatusOr<std::unique_ptr<TestDaemon>> TestDaemon::Start(TestDaemonOptions options) {
  std::unique_ptr<TestDaemon> d(new TestDaemon());
  std::string tmpl = (fs::temp_directory_path() / "cdh-e2e-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) return absl::UnavailableError("mkdtemp failed");
  d->dir_ = tmpl;
  std::string resources =
      StrCat("{\"default/signing-key/sealed-secret\":\"", Base64StdEncode(kKataPublicJwk), "\",",
             "\"default/sealed-secret/test\":\"", Base64StdEncode(kFixturePlaintext), "\",",
             "\"default/key/1\":\"", Base64StdEncode(kSmallResource), "\"",
             options.big_resource
                 ? StrCat(",\"default/big/1\":\"", Base64StdEncode(std::string(kBigResourceSize, 'B')), "\"")
                 : std::string(),
             options.extra_resources_json, "}");
  WriteText(d->dir_ + "/resources.json", resources);
  WriteText(d->config_path(),
            StrCat("socket = \"unix://", d->ttrpc_socket(), "\"\n",
                   "grpc_socket = \"", options.grpc ? StrCat("unix://", d->grpc_socket()) : std::string(), "\"\n",
                   "[kbc]\nname = \"offline_fs_kbc\"\n",
                   "[offline_fs_kbc]\nresource_files = [\"", d->dir_, "/resources.json\"]\n",
                   "[paths]\nbase_dir = \"", d->dir_, "/base\"\n"));
  WriteText(d->sealed_secret_path(), StrCat(kFixtureSealedSecret, "\n"));
  absl::Status s = d->Spawn();
  if (!s.ok()) return s;
  return d;
}

absl::Status TestDaemon::Spawn() {
  pid_ = SpawnDaemon(config_path(), dir_ + "/daemon.log");
  if (pid_ < 0) return absl::UnavailableError("fork failed");
  return WaitReady(absl::Seconds(20));
}

absl::Status TestDaemon::WaitReady(absl::Duration timeout) {
  // The daemon's readiness is an external event; poll it in short, bounded steps.
  absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (!Alive()) return absl::UnavailableError(StrCat("daemon exited during startup:\n", Log()));
    if (ttrpc::Client::Connect(ttrpc_socket()).ok()) return absl::OkStatus();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return absl::UnavailableError(StrCat("daemon not ready in time:\n", Log()));
}

TestDaemon::~TestDaemon() {
  if (pid_ > 0) Stop();
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

bool TestDaemon::Alive() {
  if (pid_ <= 0) return false;
  int status;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

int TestDaemon::Stop(absl::Duration timeout) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  absl::Time deadline = absl::Now() + timeout;
  int status = 0;
  for (;;) {
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) break;
    if (absl::Now() >= deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      pid_ = -1;
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void TestDaemon::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

int TestDaemon::CountFds() const { return CountEntries(StrCat("/proc/", pid_, "/fd")); }
int TestDaemon::CountThreads() const { return CountEntries(StrCat("/proc/", pid_, "/task")); }

long TestDaemon::RssKib() const {
  std::ifstream in(StrCat("/proc/", pid_, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

std::string TestDaemon::Log() const {
  std::ifstream in(dir_ + "/daemon.log");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int RunDaemonToExit(const std::string& config_path, const std::string& log_path, absl::Duration timeout) {
  pid_t pid = SpawnDaemon(config_path, log_path);
  if (pid < 0) return -1;
  absl::Time deadline = absl::Now() + timeout;
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) != pid) {
    if (absl::Now() >= deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace cdh::testing
