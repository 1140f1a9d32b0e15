#include "ttrpc/service_registry.h"

#include "common/strings.h"

namespace cdh::ttrpc {

absl::Status ServiceRegistry::Register(std::string_view service, std::string_view method, Handler handler) {
  if (service.empty() || method.empty() || !handler) {
    return absl::InvalidArgumentError("ttrpc handler needs a service, a method and a function");
  }
  auto& methods = services_[std::string(service)];
  if (!methods.emplace(std::string(method), std::move(handler)).second) {
    return absl::AlreadyExistsError(StrCat("ttrpc method already registered: ", service, "/", method));
  }
  return absl::OkStatus();
}

absl::StatusOr<const Handler*> ServiceRegistry::Find(std::string_view service, std::string_view method) const {
  auto s = services_.find(service);
  if (s == services_.end()) return absl::InvalidArgumentError(StrCat(service, " service does not exist"));
  auto m = s->second.find(method);
  if (m == s->second.end()) return absl::UnimplementedError(StrCat(method, " method"));
  return &m->second;
}

}  // namespace cdh::ttrpc
