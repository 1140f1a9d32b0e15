#include "daemon/role_control.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

#include "common/file_util.h"
#include "common/json.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "server/unix_socket.h"

namespace cdh {
namespace {

// A request is a command line; replies are one short line.
constexpr size_t kMaxLine = 64 << 10;
constexpr absl::Duration kRequestReadTimeout = absl::Seconds(10);

absl::StatusOr<sockaddr_un> Address(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) return absl::InvalidArgumentError(StrCat("socket path too long: ", path));
  std::memcpy(addr.sun_path, path.data(), path.size());
  return addr;
}

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// One '\n'-terminated line, within `deadline`.
absl::StatusOr<std::string> ReadLine(int fd, absl::Time deadline) {
  std::string line;
  char buf[4096];
  while (true) {
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return absl::DeadlineExceededError("no answer in time");
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return absl::UnavailableError("connection closed");
    line.append(buf, static_cast<size_t>(n));
    if (size_t nl = line.find('\n'); nl != std::string::npos) return line.substr(0, nl);
    if (line.size() > kMaxLine) return absl::InvalidArgumentError("line too long");
  }
}

}  // namespace

std::string ControlSocketPath(std::string_view dir) { return StrCat(dir, "/", kControlSocketName); }

std::string DirName(std::string_view path) {
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

absl::StatusOr<std::unique_ptr<RoleControlServer>> RoleControlServer::Start(const std::string& path, AddRole add_role) {
  CDH_RETURN_IF_ERROR(PrepareSocketPath(path));
  CDH_ASSIGN_OR_RETURN(sockaddr_un addr, Address(path));
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::UnavailableError("socket() failed");
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    int e = errno;
    ::close(fd);
    return absl::UnavailableError(StrCat("cannot bind ", path, ": ", std::strerror(e)));
  }
  absl::Status mode = RestrictSocketMode(path);
  if (mode.ok() && ::listen(fd, 8) != 0) mode = absl::UnavailableError(StrCat("cannot listen on ", path));
  int wake[2];
  if (mode.ok() && ::pipe2(wake, O_CLOEXEC) != 0) mode = absl::UnavailableError("pipe2() failed");
  if (!mode.ok()) {
    ::close(fd);
    RemoveSocketFile(path);
    return mode;
  }
  std::unique_ptr<RoleControlServer> server(new RoleControlServer(path, fd, wake[0], wake[1], std::move(add_role)));
  server->thread_ = std::thread([s = server.get()] { s->Run(); });
  return server;
}

RoleControlServer::RoleControlServer(std::string path, int listen_fd, int wake_read, int wake_write, AddRole add_role)
    : path_(std::move(path)),
      listen_fd_(listen_fd),
      wake_read_(wake_read),
      wake_write_(wake_write),
      add_role_(std::move(add_role)) {}

RoleControlServer::~RoleControlServer() {
  char byte = 0;
  while (::write(wake_write_, &byte, 1) < 0 && errno == EINTR) {
  }
  if (thread_.joinable()) thread_.join();
  const char orderly_stop = 0;
  for (int fd : joined_) {
    WriteAll(fd, std::string_view(&orderly_stop, 1));
    ::close(fd);
  }
  ::close(listen_fd_);
  ::close(wake_read_);
  ::close(wake_write_);
  RemoveSocketFile(path_);
}

void RoleControlServer::Run() {
  while (true) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_read_, POLLIN, 0}};
    int r = ::poll(fds, 2, -1);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 || (fds[1].revents & POLLIN) != 0) return;
    int conn = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) continue;
    Serve(conn);
  }
}

void RoleControlServer::Serve(int fd) {
  // Only the daemon's own user: the socket is 0600, and the peer's credentials must agree.
  ucred peer{};
  socklen_t len = sizeof(peer);
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &len) != 0 || peer.uid != ::geteuid()) {
    spdlog::warn("control socket: refused a connection from uid {}", peer.uid);
    ::close(fd);
    return;
  }
  absl::Status status;
  auto line = ReadLine(fd, absl::Now() + kRequestReadTimeout);
  if (!line.ok()) {
    status = line.status();
  } else {
    auto request = ParseJson(*line, "role request");
    status = request.ok() ? add_role_(*request) : request.status();
    std::string role =
        request.ok() && request->is_object() && request->contains("role") && (*request)["role"].is_string()
            ? (*request)["role"].get<std::string>()
            : "?";
    if (status.ok()) {
      spdlog::info("control socket: role {} joined (pid {})", Sanitize(role), peer.pid);
    } else {
      spdlog::error("control socket: role {} (pid {}) failed: {}", Sanitize(role), peer.pid, ToStd(status.message()));
    }
  }
  nlohmann::json reply = {{"code", static_cast<int>(status.code())}, {"message", std::string(status.message())}};
  bool sent = WriteAll(fd, DumpJson(reply) + "\n");
  if (status.ok() && sent) {
    joined_.push_back(fd);  // kept open until the daemon exits
  } else {
    ::close(fd);
  }
}

absl::StatusOr<std::optional<int>> JoinDaemon(const std::string& path, const nlohmann::json& request,
                                              absl::Duration timeout) {
  CDH_ASSIGN_OR_RETURN(sockaddr_un addr, Address(path));
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::UnavailableError("socket() failed");
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    int e = errno;
    ::close(fd);
    if (e == ENOENT || e == ECONNREFUSED) return std::optional<int>();  // no daemon: become it
    return absl::UnavailableError(StrCat("cannot connect to ", path, ": ", std::strerror(e)));
  }
  if (!WriteAll(fd, DumpJson(request) + "\n")) {
    ::close(fd);
    return absl::UnavailableError("the daemon closed the control connection");
  }
  auto line = ReadLine(fd, absl::Now() + timeout);
  if (!line.ok()) {
    ::close(fd);
    return line.status();
  }
  auto reply = ParseJson(*line, "daemon reply");
  if (!reply.ok() || !reply->is_object() || !(*reply)["code"].is_number_integer()) {
    ::close(fd);
    return absl::InternalError("the daemon's reply is malformed");
  }
  int code = (*reply)["code"].get<int>();
  if (code != 0) {
    ::close(fd);
    std::string message = (*reply)["message"].is_string() ? (*reply)["message"].get<std::string>() : "";
    return absl::Status(static_cast<absl::StatusCode>(code), message);
  }
  return std::optional<int>(fd);
}

int WaitForDaemonExit(int fd) {
  unsigned char status = 0;
  ssize_t n;
  do {
    n = ::recv(fd, &status, 1, 0);
  } while (n < 0 && errno == EINTR);
  ::close(fd);
  return n == 1 ? status : 1;
}

absl::Status ExecRoleWaiter(int fd, char** argv) {
  constexpr int kWaiterFd = 3;  // daemon/role_wait.c
  std::string waiter = StrCat(ExecutableDirectory(), kRoleWaiterFile);
  if (::access(waiter.c_str(), X_OK) != 0) {
    return absl::FailedPreconditionError(StrCat(waiter, " is missing or not executable"));
  }
  if (fd == kWaiterFd) {
    if (::fcntl(fd, F_SETFD, 0) != 0) return absl::UnavailableError("cannot pass the control connection");
  } else if (::dup2(fd, kWaiterFd) != kWaiterFd) {  // the duplicate is not close-on-exec
    return absl::UnavailableError("cannot pass the control connection");
  }
  ::execv(waiter.c_str(), argv);
  int e = errno;
  if (fd != kWaiterFd) ::close(kWaiterFd);
  return absl::FailedPreconditionError(StrCat("cannot run ", waiter, ": ", std::strerror(e)));
}

}  // namespace cdh
