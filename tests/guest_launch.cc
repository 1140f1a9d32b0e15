#include "tests/guest_launch.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "common/strings.h"
#include "tests/test_util.h"

namespace cdh::testing {
namespace {

bool PortAccepts(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

std::string RoleBinary(const std::string& role) {
  std::string daemon = DaemonBinary();
  return daemon.substr(0, daemon.rfind('/') + 1) + role;
}

int FreeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool WaitUntil(const std::function<bool()>& ready, absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (!ready()) {
    if (absl::Now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

absl::Status LaunchAsKata(const GuestLaunch& launch, std::vector<std::unique_ptr<ChildProcess>>& processes) {
  auto start = [&](std::vector<std::string> argv) -> absl::Status {
    auto child = ChildProcess::Start(argv, {.log_path = launch.log_path});
    if (!child.ok()) return child.status();
    processes.push_back(std::move(*child));
    return absl::OkStatus();
  };
  auto exists = [](const std::string& path) { return [path] { return ::access(path.c_str(), F_OK) == 0; }; };
  absl::Status s = start(
      {RoleBinary("attestation-agent"), "--attestation_sock", "unix://" + launch.aa_socket, "-c", launch.aa_config});
  if (!s.ok()) return s;
  if (!WaitUntil(exists(launch.aa_socket))) return absl::UnavailableError("the attestation agent's socket");
  s = start({DaemonBinary(), "-c", launch.cdh_config, "--kernel-cmdline", "/dev/null"});
  if (!s.ok()) return s;
  if (!WaitUntil(exists(launch.cdh_socket))) return absl::UnavailableError("the data hub's socket");
  s = start({RoleBinary("api-server-rest"), "--features", launch.rest_features, "--bind",
             StrCat("127.0.0.1:", launch.rest_port), "--cdh_addr", "unix://" + launch.rest_cdh_socket});
  if (!s.ok()) return s;
  if (!WaitUntil([&] { return PortAccepts(launch.rest_port); })) return absl::UnavailableError("the REST port");
  return absl::OkStatus();
}

}  // namespace cdh::testing
