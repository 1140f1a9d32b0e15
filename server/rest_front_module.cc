// The module cdh-rest.so: the REST front on cpp-httplib for the daemon, loaded when the REST role
// starts (server/rest_front_deferred.cc). It carries its own copy of the front and of the peer
// lookup and binds its calls to them (-Bsymbolic-functions), so RestFront::Start here is the one of
// server/rest_front.cc; the handlers and the policy it calls are the daemon's.
#include <type_traits>

#include "server/rest_front.h"

extern "C" {

__attribute__((visibility("default"))) void cdh_rest_front_start(cdh::RestFrontOptions* options,
                                                                 cdh::RestBackends* backends,
                                                                 const cdh::RestPolicy* policy,
                                                                 absl::StatusOr<std::unique_ptr<cdh::RestFront>>* out) {
  *out = cdh::RestFront::Start(std::move(*options), *backends, policy);
}

}  // extern "C"

static_assert(std::is_same_v<decltype(&cdh_rest_front_start), cdh::RestModuleStart>);
