// StartGrpcServer and StartAaGrpcServer (server/grpc_server.h): load the gRPC module beside the
// executable and call its entry points. Kept out of the module so that the daemon links no gRPC library.
#include <dlfcn.h>
#include <limits.h>
#include <unistd.h>

#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/file_util.h"
#include "common/strings.h"
#include "server/grpc_server.h"

namespace cdh {
namespace {

// The module, loaded once; it stays loaded (gRPC keeps threads and global state that must not be
// unmapped).
absl::StatusOr<void*> LoadModule() {
  static absl::Mutex mu(absl::kConstInit);
  static void* module ABSL_GUARDED_BY(mu) = nullptr;
  absl::MutexLock lock(&mu);
  if (module != nullptr) return module;
  std::string path = StrCat(ExecutableDirectory(), kGrpcModuleFile);
  module = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (module == nullptr) {
    const char* why = ::dlerror();
    return absl::FailedPreconditionError(StrCat("gRPC support cannot be loaded (", why != nullptr ? why : path,
                                                "); serve ttrpc only: grpc_socket = \"\" for the data hub, ",
                                                "a unix:// --attestation_sock for the attestation agent"));
  }
  return module;
}

template <typename Entry>
absl::StatusOr<Entry> LoadEntry(const char* name) {
  absl::StatusOr<void*> module = LoadModule();
  if (!module.ok()) return module.status();
  auto entry = reinterpret_cast<Entry>(::dlsym(*module, name));
  if (entry == nullptr) {
    return absl::FailedPreconditionError(StrCat(kGrpcModuleFile, " is not this daemon's gRPC module (no ", name, ")"));
  }
  return entry;
}

}  // namespace

absl::StatusOr<std::unique_ptr<GrpcServer>> StartGrpcServer(const std::string& socket_path, ApiHandlers& handlers) {
  absl::StatusOr<GrpcModuleEntry> entry = LoadEntry<GrpcModuleEntry>(kGrpcModuleEntry);
  if (!entry.ok()) return entry.status();
  absl::StatusOr<std::unique_ptr<GrpcServer>> server = absl::InternalError("gRPC module returned nothing");
  (*entry)(&socket_path, &handlers, &server);
  return server;
}

absl::StatusOr<std::unique_ptr<GrpcServer>> StartAaGrpcServer(const std::string& address, AaHandlers& handlers) {
  absl::StatusOr<GrpcAaModuleEntry> entry = LoadEntry<GrpcAaModuleEntry>(kGrpcAaModuleEntry);
  if (!entry.ok()) return entry.status();
  absl::StatusOr<std::unique_ptr<GrpcServer>> server = absl::InternalError("gRPC module returned nothing");
  (*entry)(&address, &handlers, &server);
  return server;
}

}  // namespace cdh
