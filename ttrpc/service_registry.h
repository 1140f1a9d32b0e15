// ServiceRegistry: ttrpc service and method names -> handlers (cdh-api.md §3.3).
//
// Handlers take the serialized request message and return the serialized reply; they are the
// same handlers the gRPC server uses (server/api_handlers.h MethodTable), so the registry is
// filled from that table in the daemon's main. Lookup failures use the codes of ttrpc-rust,
// the upstream server the kata agent talks to:
//   unknown service -> INVALID_ARGUMENT "<service> service does not exist"
//   unknown method  -> UNIMPLEMENTED "<method> method"
// Copyable and movable; const methods are thread-safe (the registry is frozen before serving).
#ifndef CDH_TTRPC_SERVICE_REGISTRY_H_
#define CDH_TTRPC_SERVICE_REGISTRY_H_

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/call_context.h"

namespace cdh::ttrpc {

// Serialized request -> serialized reply, or a status whose code and message are final.
using Handler = std::function<absl::StatusOr<std::string>(std::string_view request, const CallContext& ctx)>;

class ServiceRegistry {
 public:
  // ALREADY_EXISTS when {service, method} is registered; INVALID_ARGUMENT for empty names or a
  // null handler.
  absl::Status Register(std::string_view service, std::string_view method, Handler handler);

  // Registers every entry of a table keyed by {service, method} (such as ApiHandlers'
  // MethodTable). Same codes as Register.
  template <typename Table>
  absl::Status RegisterAll(const Table& table) {
    for (const auto& [key, handler] : table) {
      absl::Status s = Register(key.first, key.second, handler);
      if (!s.ok()) return s;
    }
    return absl::OkStatus();
  }

  // The handler for {service, method}, or the lookup status described above.
  absl::StatusOr<const Handler*> Find(std::string_view service, std::string_view method) const;

 private:
  std::map<std::string, std::map<std::string, Handler, std::less<>>, std::less<>> services_;
};

}  // namespace cdh::ttrpc

#endif  // CDH_TTRPC_SERVICE_REGISTRY_H_
