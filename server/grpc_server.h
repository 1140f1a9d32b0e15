// GrpcServer: serves the five CDH services over gRPC on a unix socket, with server reflection
// so that `grpcurl -plaintext -unix <socket> list` works (cdh-api.md §3.5; Debian 12's gRPC 1.51 serves
// grpc.reflection.v1alpha). Handlers are the shared ApiHandlers; this layer only converts deadlines and statuses.
//
// gRPC is a loadable module (`cdh-grpc.so`, built beside the daemon): the daemon and its ttrpc
// path do not link gRPC's libraries, whose loading and symbol binding cost more start-up time
// and resident memory than the rest of the daemon (storage/bench/RESULTS.md, "A lean daemon").
// StartGrpcServer loads the module only when a gRPC socket is configured.
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
  virtual ~GrpcServer() = default;  // Shutdown(5 s) if not done
  // Stops accepting calls, waits up to `grace` for in-flight calls, removes the socket file.
  // Idempotent.
  virtual void Shutdown(absl::Duration grace) = 0;
};

// Loads the gRPC module (once per process; it is never unloaded), binds `socket_path` (prepared
// with PrepareSocketPath) with mode 0600 and starts serving `handlers`, which must outlive the
// server. FAILED_PRECONDITION if the module is missing or cannot be loaded, or a live server owns
// the socket; UNAVAILABLE if gRPC cannot bind.
absl::StatusOr<std::unique_ptr<GrpcServer>> StartGrpcServer(const std::string& socket_path, ApiHandlers& handlers);

// The module's interface, for server/grpc_loader.cc and the module only: file name (looked up in
// the directory of the running executable) and the one exported entry point, which starts a
// server as described above and stores the result in `*out`.
inline constexpr char kGrpcModuleFile[] = "cdh-grpc.so";
inline constexpr char kGrpcModuleEntry[] = "cdh_grpc_server_start";
using GrpcModuleEntry = void (*)(const std::string* socket_path, ApiHandlers* handlers,
                                 absl::StatusOr<std::unique_ptr<GrpcServer>>* out);

}  // namespace cdh

#endif  // CDH_SERVER_GRPC_SERVER_H_
