#include "common/module_loader.h"

#include <dlfcn.h>

#include <map>

#include "absl/base/thread_annotations.h"
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

absl::StatusOr<void*> ModuleSymbol(std::string_view file, const char* symbol, std::string_view what) {
  void* module = nullptr;
  {
    absl::MutexLock lock(&modules_mu);
    auto& modules = Modules();
    auto it = modules.find(file);
    if (it != modules.end()) {
      module = it->second;
    } else {
      std::string path = StrCat(ExecutableDirectory(), file);
      module = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (module == nullptr) {
        const char* why = ::dlerror();
        return absl::FailedPreconditionError(StrCat(what, " cannot be loaded (",
                                                    why != nullptr ? std::string(why) : path, "); install ", file,
                                                    " beside the daemon"));
      }
      modules.emplace(std::string(file), module);
    }
  }
  void* address = ::dlsym(module, symbol);
  if (address == nullptr) {
    return absl::FailedPreconditionError(StrCat(file, " is not this daemon's module (no ", symbol, ")"));
  }
  return address;
}

}  // namespace cdh
