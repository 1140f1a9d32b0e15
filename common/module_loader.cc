#include "common/module_loader.h"

#include <dlfcn.h>

#include <map>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/cord.h"
#include "absl/synchronization/mutex.h"
#include "common/file_util.h"
#include "common/strings.h"

namespace cdh {
namespace {

absl::Mutex modules_mu(absl::kConstInit);

// File name -> handle; entries are never removed (modules stay loaded).
std::map<std::string, void*, std::less<>>& Modules() ABSL_EXCLUSIVE_LOCKS_REQUIRED(modules_mu) {
  static auto* modules = new std::map<std::string, void*, std::less<>>();
  return *modules;
}

}  // namespace

absl::Status LoadFailure(std::string message) {
  absl::Status status = absl::FailedPreconditionError(std::move(message));
  status.SetPayload(kModuleLoadFailure, absl::Cord("1"));
  return status;
}

absl::StatusOr<void*> ModuleSymbol(std::string_view file, const char* symbol, std::string_view what) {
  absl::MutexLock lock(&modules_mu);
  auto& modules = Modules();
  auto it = modules.find(file);
  if (it != modules.end()) {
    void* address = ::dlsym(it->second, symbol);
    if (address != nullptr) return address;
    return LoadFailure(StrCat(what, ": ", file, " is not this daemon's module (no ", symbol, "); install the ", file,
                              " built with this daemon beside it"));
  }
  const std::string dir = ExecutableDirectory();
  if (dir.empty()) {
    return LoadFailure(StrCat(what, " cannot be loaded: the daemon's directory is unknown (is /proc mounted?)"));
  }
  const std::string path = StrCat(dir, file);
  void* module = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (module == nullptr) {
    const char* why = ::dlerror();
    return LoadFailure(StrCat(what, " cannot be loaded (", why != nullptr ? std::string(why) : path, "); install ",
                              file, " beside the daemon"));
  }
  void* address = ::dlsym(module, symbol);
  if (address == nullptr) {
    ::dlclose(module);  // not kept: the right module installed later is loaded then
    return LoadFailure(StrCat(what, ": ", file, " is not this daemon's module (no ", symbol, "); install the ", file,
                              " built with this daemon beside it"));
  }
  modules.emplace(std::string(file), module);
  return address;
}

}  // namespace cdh
