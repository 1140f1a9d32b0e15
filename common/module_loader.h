// Loadable modules of the daemon: shared objects installed beside the executable (cdh-grpc.so,
// cdh-curl.so), each loaded with dlopen the first time a call needs what it holds, so that the
// libraries behind them (gRPC, libcurl and their dependencies) are neither mapped nor bound while
// the daemon starts and idles (storage/bench/RESULTS.md, "A lean daemon").
//
// A module is loaded at most once per process and never unloaded (its libraries keep threads and
// global state). Thread-safe.
#ifndef CDH_COMMON_MODULE_LOADER_H_
#define CDH_COMMON_MODULE_LOADER_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace cdh {

// The address of `symbol` in the module `file` (a file name, looked up in ExecutableDirectory()).
// Loads the module on the first call for that file (RTLD_NOW | RTLD_LOCAL). FAILED_PRECONDITION
// naming the file and dlopen's reason when the module is missing or cannot be loaded (a broken
// installation, or the module of another build), or when it lacks `symbol`; `what` names the
// feature for the message ("gRPC support", "HTTP support").
absl::StatusOr<void*> ModuleSymbol(std::string_view file, const char* symbol, std::string_view what);

// ModuleSymbol cast to the entry point's function type.
template <typename Entry>
absl::StatusOr<Entry> ModuleEntry(std::string_view file, const char* symbol, std::string_view what) {
  absl::StatusOr<void*> address = ModuleSymbol(file, symbol, what);
  if (!address.ok()) return address.status();
  return reinterpret_cast<Entry>(*address);
}

}  // namespace cdh

#endif  // CDH_COMMON_MODULE_LOADER_H_
