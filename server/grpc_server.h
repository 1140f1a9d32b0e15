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
#include "server/aa_handlers.h"
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

// The attestation agent over gRPC, as upstream's `grpc-aa` (guest-components
// attestation-agent/attestation-agent/src/bin/grpc-aa/): attestation_agent.AttestationAgentService
// on `address`, "host:port" (TCP, upstream's form, default 127.0.0.1:50002 there), from the same
// handlers as the ttrpc service, with server reflection. `handlers` must outlive the server.
// Codes as StartGrpcServer's (UNAVAILABLE when gRPC cannot bind the address). A GetToken token is
// copied into protobuf's string for gRPC to serialise after the handler returns; unlike on ttrpc
// it is not wiped afterwards.
absl::StatusOr<std::unique_ptr<GrpcServer>> StartAaGrpcServer(const std::string& address, AaHandlers& handlers);

// The module's interface, for server/grpc_loader.cc and the module only: file name (looked up in
// the directory of the running executable) and the exported entry points, which start a server
// as described above and store the result in `*out`.
inline constexpr char kGrpcModuleFile[] = "cdh-grpc.so";
inline constexpr char kGrpcModuleEntry[] = "cdh_grpc_server_start";
using GrpcModuleEntry = void (*)(const std::string* socket_path, ApiHandlers* handlers,
                                 absl::StatusOr<std::unique_ptr<GrpcServer>>* out);
inline constexpr char kGrpcAaModuleEntry[] = "cdh_grpc_aa_server_start";
using GrpcAaModuleEntry = void (*)(const std::string* address, AaHandlers* handlers,
                                   absl::StatusOr<std::unique_ptr<GrpcServer>>* out);

}  // namespace cdh

#endif  // CDH_SERVER_GRPC_SERVER_H_
