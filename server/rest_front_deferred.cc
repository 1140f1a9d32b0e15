// RestFront::Start (server/rest_front.h) in the daemon: cpp-httplib, libssl and brotli are loaded
// with the module cdh-rest.so when the REST role starts.
#include "common/module_loader.h"
#include "server/rest_front.h"

namespace cdh {

absl::StatusOr<std::unique_ptr<RestFront>> RestFront::Start(RestFrontOptions options, RestBackends& backends,
                                                            const RestPolicy* policy) {
  absl::StatusOr<RestModuleStart> entry =
      ModuleEntry<RestModuleStart>(kRestModuleFile, kRestModuleStart, "the REST front (cpp-httplib)");
  if (!entry.ok()) return entry.status();
  absl::StatusOr<std::unique_ptr<RestFront>> front = absl::InternalError("cdh-rest.so returned nothing");
  (*entry)(&options, &backends, policy, &front);
  return front;
}

}  // namespace cdh
