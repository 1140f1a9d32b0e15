#include "tests/daemon_fixture.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "common/base64.h"
#include "common/strings.h"
#include "tests/test_util.h"

namespace cdh::testing {
namespace fs = std::filesystem;
namespace {

int CountEntries(const std::string& dir) {
  std::error_code ec;
  int n = 0;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) ++n;
  return ec ? -1 : n;
}

bool Connects(const std::string& socket_path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  strncpy(addr.sun_path, socket_path.c_str(), sizeof(addr.sun_path) - 1);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

std::vector<std::string> DaemonArgv(const std::string& config_path) {
  return {DaemonBinary(), "-c", config_path, "--kernel-cmdline", "/dev/null"};
}

// A minimal environment, plus the sanitizers' options so sanitizer builds can be run.
std::vector<std::string> MinimalEnvironment() {
  std::vector<std::string> env = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin"};
  for (const char* name : {"TSAN_OPTIONS", "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"}) {
    if (const char* v = std::getenv(name); v != nullptr) env.push_back(StrCat(name, "=", v));
  }
  return env;
}

// Readiness of the daemon is an event in another process (its socket starts accepting); it is
// observed by trying to connect in short, bounded steps.
bool WaitUntilConnects(const std::string& socket_path, ChildProcess& child, absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (!child.Running()) return false;
    if (Connects(socket_path)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

}  // namespace

Daemon::Daemon(const std::string& config_path, const std::string& log_path) {
  auto child = ChildProcess::Start(DaemonArgv(config_path), {.log_path = log_path});
  if (child.ok()) child_ = std::move(child).value();
}

Daemon::~Daemon() = default;  // ChildProcess kills and reaps

bool Daemon::Running() { return child_ != nullptr && child_->Running(); }

void Daemon::Signal(int sig) {
  if (child_ != nullptr) child_->Signal(sig);
}

int Daemon::Wait(absl::Duration timeout) {
  if (child_ == nullptr) return -1;
  return child_->Wait(timeout).value_or(-1);
}

bool Daemon::WaitForSocket(const std::string& socket_path, absl::Duration timeout) {
  return child_ != nullptr && WaitUntilConnects(socket_path, *child_, timeout);
}

absl::StatusOr<std::unique_ptr<TestDaemon>> TestDaemon::Start(TestDaemonOptions options) {
  std::unique_ptr<TestDaemon> d(new TestDaemon());
  if (d->dir().empty()) return absl::UnavailableError("no temp directory");
  d->binary_ = options.binary.empty() ? DaemonBinary() : options.binary;
  std::string resources = StrCat(
      "{\"default/signing-key/sealed-secret\":\"", Base64StdEncode(kKataPublicJwk), "\",",
      "\"default/sealed-secret/test\":\"", Base64StdEncode(kFixturePlaintext), "\",", "\"default/key/1\":\"",
      Base64StdEncode(kSmallResource), "\"",
      options.big_resource ? StrCat(",\"default/big/1\":\"", Base64StdEncode(std::string(kBigResourceSize, 'B')), "\"")
                           : std::string(),
      options.extra_resources_json, "}");
  d->dir_.Write("resources.json", resources);
  d->dir_.Write("cdh.toml", StrCat("socket = \"unix://", d->ttrpc_socket(), "\"\n", "grpc_socket = \"",
                                   options.grpc ? StrCat("unix://", d->grpc_socket()) : std::string(), "\"\n",
                                   "[kbc]\nname = \"offline_fs_kbc\"\n", "[offline_fs_kbc]\nresource_files = [\"",
                                   d->dir(), "/resources.json\"]\n", "[paths]\nbase_dir = \"", d->dir(), "/base\"\n"));
  d->dir_.Write("sealed_secret", StrCat(kFixtureSealedSecret, "\n"));
  absl::Status s = d->Spawn();
  if (!s.ok()) return s;
  return d;
}

absl::Status TestDaemon::Spawn() {
  std::vector<std::string> argv = DaemonArgv(config_path());
  argv[0] = binary_;
  auto child = ChildProcess::Start(argv, {.env = MinimalEnvironment(), .log_path = dir_.File("daemon.log")});
  if (!child.ok()) return child.status();
  child_ = std::move(child).value();
  return WaitReady(absl::Seconds(20));
}

absl::Status TestDaemon::WaitReady(absl::Duration timeout) {
  if (WaitUntilConnects(ttrpc_socket(), *child_, timeout)) return absl::OkStatus();
  if (!child_->Running()) return absl::UnavailableError(StrCat("daemon exited during startup:\n", Log()));
  return absl::UnavailableError(StrCat("daemon not ready in time:\n", Log()));
}

TestDaemon::~TestDaemon() { Stop(); }

bool TestDaemon::Alive() { return child_ != nullptr && child_->Running(); }

int TestDaemon::Stop(absl::Duration timeout) {
  if (child_ == nullptr) return -1;
  return child_->Stop(timeout);  // the exit status also when the daemon had already exited
}

void TestDaemon::Kill() {
  if (child_ != nullptr) child_->Kill();
}

int TestDaemon::CountFds() const { return CountEntries(StrCat("/proc/", pid(), "/fd")); }
int TestDaemon::CountThreads() const { return CountEntries(StrCat("/proc/", pid(), "/task")); }

long TestDaemon::RssKib() const {
  std::ifstream in(StrCat("/proc/", pid(), "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

std::string TestDaemon::Log() const { return ReadFile(dir_.File("daemon.log")); }

int RunDaemonToExit(const std::string& config_path, const std::string& log_path, absl::Duration timeout) {
  auto child = ChildProcess::Start(DaemonArgv(config_path), {.env = MinimalEnvironment(), .log_path = log_path});
  if (!child.ok()) return -1;
  std::optional<int> code = (*child)->Wait(timeout);
  if (!code.has_value()) (*child)->Kill();
  return code.value_or(-1);
}

}  // namespace cdh::testing
