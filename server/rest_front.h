// RestFront: api-server-rest's HTTP front for application containers
// (guest-components api-server-rest/src/router.rs; cdh-api.md §14), served in-process from the
// same handlers as the ttrpc APIs, on cpp-httplib, by default on 127.0.0.1:8006.
//
// Routes, bodies and status codes are upstream's:
//   GET  /info                                   200 {"version","tee"?,"additional_tees"?,"feature"}
//   *    /cdh/resource/<repo>/<type>/<tag>       200 application/octet-stream, the resource
//                                                 (GetResource of kbs:///<repo>/<type>/<tag>)
//   GET  /aa/token?token_type=kbs                200 octet-stream, GetToken's bytes
//   GET  /aa/evidence?runtime_data=<d>[&encoding=base64]              200 octet-stream, evidence
//   GET  /aa/additional-evidence?runtime_data=<d>[&encoding=base64]   200 octet-stream
//   POST /aa/aael {"domain","operation","content"}  200 {"success":"true"} or
//                                                 {"success":"false","message":...} (not enabled /
//                                                 not supported)
//   a peer that is not loopback                  403 "Forbidden"
//   missing query parameter, bad encoding        400 "BAD REQUEST"
//   a handler error                              500 with the handler's message
//   /aa/... or /cdh/... not enabled              404 "Attestation Feature Not Enabled" /
//                                                     "Resource Feature Not Enabled"
//   anything else                                404 "URL NOT FOUND"; /info not GET: 405
// `runtime_data` is the query value's bytes, or URL-safe base64 without padding with
// `encoding=base64`, as upstream.
//
// Authorization (not upstream; upstream serves every local caller): every /cdh and /aa request is
// put to the RestPolicy (server/rest_policy.h) first; a refusal is 403 "Forbidden by rule `<name>`"
// and a log line. With no policy every caller is served, as upstream.
//
// Thread-safe; neither copyable nor movable. Shutdown stops accepting and waits for the
// in-flight requests.
//
// cpp-httplib (and through it libssl and brotli; its static initialiser loads OpenSSL's error
// strings) sits behind a link-time seam, RestFront::Start: every binary links the front itself
// (server/rest_front.cc); the daemon links server/rest_front_deferred.cc, which loads the module
// cdh-rest.so beside it when the REST role starts, so a daemon that never serves REST never maps
// them. FAILED_PRECONDITION naming the file when that module cannot be loaded.
#ifndef CDH_SERVER_REST_FRONT_H_
#define CDH_SERVER_REST_FRONT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "server/aa_handlers.h"
#include "server/api_handlers.h"
#include "server/rest_policy.h"

namespace cdh {

// Where the REST front finds the roles it forwards to; either may be absent (null) while that
// role is not served. Implementations are thread-safe.
class RestBackends {
 public:
  virtual ~RestBackends() = default;
  virtual ApiHandlers* cdh() = 0;
  virtual AaHandlers* aa() = 0;
};

struct RestFrontOptions {
  std::string host = "127.0.0.1";  // upstream's default bind 127.0.0.1:8006
  int port = 8006;                 // 0: any free port (tests)
  // upstream `--features`: "resource" (/cdh), "attestation" (/aa), "all".
  std::string features = "resource";
  std::string version = "0.1.0";
  int threads = 4;  // request workers
};

class RestFront {
 public:
  // INVALID_ARGUMENT for unknown features or an address that is not an IP literal; UNAVAILABLE
  // when the address cannot be bound. `backends` and `policy` (may be null: open) must outlive it.
  static absl::StatusOr<std::unique_ptr<RestFront>> Start(RestFrontOptions options, RestBackends& backends,
                                                          const RestPolicy* policy);
  virtual ~RestFront() = default;  // Shutdown()

  virtual int port() const = 0;
  virtual void Shutdown() = 0;
};

// The module cdh-rest.so (server/rest_front_module.cc), for the deferred side and the module only:
// file name (beside the executable) and its entry point, which runs the RestFront::Start of
// server/rest_front.cc and stores the result in `*out`.
inline constexpr char kRestModuleFile[] = "cdh-rest.so";
inline constexpr char kRestModuleStart[] = "cdh_rest_front_start";
using RestModuleStart = void (*)(RestFrontOptions* options, RestBackends* backends, const RestPolicy* policy,
                                 absl::StatusOr<std::unique_ptr<RestFront>>* out);

}  // namespace cdh

#endif  // CDH_SERVER_REST_FRONT_H_
