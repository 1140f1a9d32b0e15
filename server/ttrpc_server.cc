#include "server/ttrpc_server.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/status_macros.h"
#include "common/strings.h"
#include "server/status_mapping.h"
#include "server/unix_socket.h"

namespace cdh {
namespace {

absl::StatusOr<int> BindListening(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) return absl::InvalidArgumentError(StrCat("socket path too long: ", path));
  std::memcpy(addr.sun_path, path.data(), path.size());
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::UnavailableError("socket() failed");
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    int e = errno;
    ::close(fd);
    return absl::UnavailableError(StrCat("cannot bind ", path, ": ", std::strerror(e)));
  }
  // Owner-only before listen(): nobody can connect in between.
  absl::Status mode = RestrictSocketMode(path);
  if (mode.ok() && ::listen(fd, SystemListenBacklog()) != 0) {
    mode = absl::UnavailableError(StrCat("cannot listen on ", path, ": ", std::strerror(errno)));
  }
  if (!mode.ok()) {
    ::close(fd);
    RemoveSocketFile(path);
    return mode;
  }
  return fd;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TtrpcServer>> TtrpcServer::Start(const std::string& socket_path, ApiHandlers& handlers,
                                                                ttrpc::ServerOptions options) {
  return Start(socket_path, handlers.BuildMethodTable(), std::move(options));
}

absl::StatusOr<std::unique_ptr<TtrpcServer>> TtrpcServer::Start(const std::string& socket_path,
                                                                ApiHandlers::MethodTable methods,
                                                                ttrpc::ServerOptions options) {
  ttrpc::ServiceRegistry registry;
  CDH_RETURN_IF_ERROR(registry.RegisterAll(std::move(methods)));
  options.status_mapper = [](const absl::Status& status) {
    WireStatus wire = ToWireStatus(status);
    return ttrpc::RpcStatus{wire.code, std::move(wire.message)};
  };
  CDH_ASSIGN_OR_RETURN(std::unique_ptr<ttrpc::Server> server, ttrpc::Server::New(std::move(registry), options));
  CDH_RETURN_IF_ERROR(PrepareSocketPath(socket_path));
  CDH_ASSIGN_OR_RETURN(int fd, BindListening(socket_path));
  CDH_RETURN_IF_ERROR(server->Listen(fd));
  return std::unique_ptr<TtrpcServer>(new TtrpcServer(socket_path, std::move(server)));
}

TtrpcServer::~TtrpcServer() { Shutdown(absl::ZeroDuration()); }

void TtrpcServer::Shutdown(absl::Duration grace) {
  if (stopped_) return;
  stopped_ = true;
  server_->Shutdown(grace);
  RemoveSocketFile(socket_path_);
}

}  // namespace cdh
