// StartGrpcServer (server/grpc_server.h): loads the gRPC module beside the executable and calls
// its entry point. Kept out of the module so that the daemon links no gRPC library.
#include <dlfcn.h>
#include <limits.h>
#include <unistd.h>

#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/strings.h"
#include "server/grpc_server.h"

namespace cdh {
namespace {

// The directory of the running executable, with a trailing '/'; "" when /proc is unreadable.
std::string ExecutableDir() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return "";
  std::string path(buf, static_cast<size_t>(n));
  return path.substr(0, path.rfind('/') + 1);
}

// The module's entry point, loaded once; the module stays loaded (gRPC keeps threads and global
// state that must not be unmapped).
absl::StatusOr<GrpcModuleEntry> LoadModule() {
  static absl::Mutex mu(absl::kConstInit);
  static GrpcModuleEntry entry ABSL_GUARDED_BY(mu) = nullptr;
  absl::MutexLock lock(&mu);
  if (entry != nullptr) return entry;
  std::string path = StrCat(ExecutableDir(), kGrpcModuleFile);
  void* module = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (module == nullptr) {
    const char* why = ::dlerror();
    return absl::FailedPreconditionError(StrCat("gRPC support cannot be loaded (", why != nullptr ? why : path,
                                                "); set grpc_socket = \"\" to serve ttrpc only"));
  }
  entry = reinterpret_cast<GrpcModuleEntry>(::dlsym(module, kGrpcModuleEntry));
  if (entry == nullptr) {
    return absl::FailedPreconditionError(StrCat(path, " is not this daemon's gRPC module (no ", kGrpcModuleEntry, ")"));
  }
  return entry;
}

}  // namespace

absl::StatusOr<std::unique_ptr<GrpcServer>> StartGrpcServer(const std::string& socket_path, ApiHandlers& handlers) {
  absl::StatusOr<GrpcModuleEntry> entry = LoadModule();
  if (!entry.ok()) return entry.status();
  absl::StatusOr<std::unique_ptr<GrpcServer>> server = absl::InternalError("gRPC module returned nothing");
  (*entry)(&socket_path, &handlers, &server);
  return server;
}

}  // namespace cdh
