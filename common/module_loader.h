// Loadable modules of the daemon: shared objects installed beside the executable (cdh-grpc.so,
// cdh-curl.so, cdh-storage.so, cdh-tpm.so, cdh-image.so, cdh-rest.so; the README lists what each
// holds), each loaded with dlopen the first time a call needs what it holds, so that the libraries
// behind them are neither mapped nor bound while the daemon starts and idles
// (storage/bench/RESULTS.md, "A modular daemon").
//
// A module is loaded at most once per process and never unloaded (its libraries keep threads and
// global state); a file that is missing or not this daemon's module is not kept, so installing the
// right one later works without a restart. Thread-safe.
#ifndef CDH_COMMON_MODULE_LOADER_H_
#define CDH_COMMON_MODULE_LOADER_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace cdh {

// The address of `symbol` in the module `file` (a file name, looked up in ExecutableDirectory()
// only, never on the library search path). Loads the module on the first call for that file
// (RTLD_NOW | RTLD_LOCAL). FAILED_PRECONDITION naming the file, the reason and the fix when the
// daemon's directory is unknown (no /proc), the module is missing or cannot be loaded (a broken
// installation, or the module of another build), or lacks `symbol`; `what` names the feature for
// the message ("gRPC support", "HTTP support (libcurl)"). Such a status carries the payload
// kModuleLoadFailure (IsModuleLoadFailure), so callers that give FAILED_PRECONDITION another
// meaning (a TLS failure of an HTTP exchange) pass it on unchanged.
absl::StatusOr<void*> ModuleSymbol(std::string_view file, const char* symbol, std::string_view what);

inline constexpr char kModuleLoadFailure[] = "type.cdh/module-load-failure";
inline bool IsModuleLoadFailure(const absl::Status& status) {
  return status.GetPayload(kModuleLoadFailure).has_value();
}

// ModuleSymbol cast to the entry point's function type.
template <typename Entry>
absl::StatusOr<Entry> ModuleEntry(std::string_view file, const char* symbol, std::string_view what) {
  absl::StatusOr<void*> address = ModuleSymbol(file, symbol, what);
  if (!address.ok()) return address.status();
  return reinterpret_cast<Entry>(*address);
}

}  // namespace cdh

#endif  // CDH_COMMON_MODULE_LOADER_H_
