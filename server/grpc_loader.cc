// StartGrpcServer and StartAaGrpcServer (server/grpc_server.h): load the gRPC module beside the
// executable and call its entry points. Kept out of the module so that the daemon links no gRPC library.
#include <string>

#include "common/module_loader.h"
#include "common/strings.h"
#include "server/grpc_server.h"

namespace cdh {
namespace {

constexpr char kWhat[] = "gRPC support";

// The module's entry `symbol`; a failure also says how to run without gRPC.
template <typename Entry>
absl::StatusOr<Entry> GrpcEntry(const char* symbol) {
  absl::StatusOr<Entry> entry = ModuleEntry<Entry>(kGrpcModuleFile, symbol, kWhat);
  if (entry.ok()) return entry;
  return absl::FailedPreconditionError(StrCat(ToStd(entry.status().message()),
                                              ", or serve ttrpc only: grpc_socket = \"\" for the data hub, ",
                                              "a unix:// --attestation_sock for the attestation agent"));
}

}  // namespace

absl::StatusOr<std::unique_ptr<GrpcServer>> StartGrpcServer(const std::string& socket_path, ApiHandlers& handlers) {
  absl::StatusOr<GrpcModuleEntry> entry = GrpcEntry<GrpcModuleEntry>(kGrpcModuleEntry);
  if (!entry.ok()) return entry.status();
  absl::StatusOr<std::unique_ptr<GrpcServer>> server = absl::InternalError("gRPC module returned nothing");
  (*entry)(&socket_path, &handlers, &server);
  return server;
}

absl::StatusOr<std::unique_ptr<GrpcServer>> StartAaGrpcServer(const std::string& address, AaHandlers& handlers) {
  absl::StatusOr<GrpcAaModuleEntry> entry = GrpcEntry<GrpcAaModuleEntry>(kGrpcAaModuleEntry);
  if (!entry.ok()) return entry.status();
  absl::StatusOr<std::unique_ptr<GrpcServer>> server = absl::InternalError("gRPC module returned nothing");
  (*entry)(&address, &handlers, &server);
  return server;
}

}  // namespace cdh
