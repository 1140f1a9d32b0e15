// TtrpcServer: serves the five CDH services over ttrpc on a unix socket, the protocol and
// socket the kata agent uses (cdh-api.md §3.2-3.3, §14). The protocol lives in ttrpc/; this
// layer binds the socket file (lifecycle of server/unix_socket.h: parent created, stale socket
// replaced, live one never taken over, mode 0600), registers the shared ApiHandlers'
// MethodTable, and sends every status through the one mapping of server/status_mapping.h.
//
// Thread-safe; neither copyable nor movable. Shutdown lets in-flight calls finish (up to the
// grace period), then removes the socket file.
#ifndef CDH_SERVER_TTRPC_SERVER_H_
#define CDH_SERVER_TTRPC_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/api_handlers.h"
#include "ttrpc/server.h"

namespace cdh {

class TtrpcServer {
 public:
  // FAILED_PRECONDITION if a live server owns `socket_path` or it is not a socket;
  // UNAVAILABLE if it cannot be bound. `handlers` must outlive the server.
  static absl::StatusOr<std::unique_ptr<TtrpcServer>> Start(const std::string& socket_path, ApiHandlers& handlers,
                                                            ttrpc::ServerOptions options = {});
  // The same over any method table (e.g. the attestation agent's, server/aa_handlers.h); the
  // handlers behind it must outlive the server.
  static absl::StatusOr<std::unique_ptr<TtrpcServer>> Start(const std::string& socket_path,
                                                            ApiHandlers::MethodTable methods,
                                                            ttrpc::ServerOptions options = {});
  ~TtrpcServer();
  TtrpcServer(const TtrpcServer&) = delete;
  TtrpcServer& operator=(const TtrpcServer&) = delete;

  // Stops accepting and reading new requests, waits up to `grace` for in-flight calls, removes
  // the socket file. Idempotent.
  void Shutdown(absl::Duration grace);

 private:
  TtrpcServer(std::string socket_path, std::unique_ptr<ttrpc::Server> server)
      : socket_path_(std::move(socket_path)), server_(std::move(server)) {}
  std::string socket_path_;
  std::unique_ptr<ttrpc::Server> server_;
  bool stopped_ = false;
};

}  // namespace cdh

#endif  // CDH_SERVER_TTRPC_SERVER_H_
