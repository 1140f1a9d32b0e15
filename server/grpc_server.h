// GrpcServer: serves the five CDH services over gRPC on a unix socket, with server reflection
// so that `grpcurl -plaintext -unix <socket> list` works (cdh-api.md §3.5; Debian 12's gRPC 1.51 serves
// grpc.reflection.v1alpha). Handlers are the shared ApiHandlers; this layer only converts deadlines and statuses.
//
// A call the client cancels (or whose connection goes away) has its CallContext::cancellation
// fired within about 100 ms, so a handler waiting on the broker returns and its gRPC thread is
// released instead of waiting out the broker's timeout.
//
// Thread-safe; neither copyable nor movable. Shutdown lets in-flight calls finish (up to the
// grace period), then removes the socket file.
#ifndef CDH_SERVER_GRPC_SERVER_H_
#define CDH_SERVER_GRPC_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/api_handlers.h"

namespace cdh {

class GrpcServer {
 public:
  // Binds `socket_path` (prepared with PrepareSocketPath: FAILED_PRECONDITION if a live server
  // owns it) with mode 0600 and starts serving. UNAVAILABLE if gRPC cannot bind.
  static absl::StatusOr<std::unique_ptr<GrpcServer>> Start(const std::string& socket_path, ApiHandlers& handlers);
  ~GrpcServer();
  GrpcServer(const GrpcServer&) = delete;
  GrpcServer& operator=(const GrpcServer&) = delete;

  // Stops accepting calls, waits up to `grace` for in-flight calls, removes the socket file.
  void Shutdown(absl::Duration grace);

 private:
  struct Impl;
  explicit GrpcServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cdh

#endif  // CDH_SERVER_GRPC_SERVER_H_
