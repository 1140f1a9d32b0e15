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
#ifndef CDH_SERVER_REST_FRONT_H_
#define CDH_SERVER_REST_FRONT_H_

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "server/aa_handlers.h"
#include "server/api_handlers.h"
#include "server/rest_policy.h"

namespace httplib {
class Server;
}

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
  ~RestFront();
  RestFront(const RestFront&) = delete;
  RestFront& operator=(const RestFront&) = delete;

  int port() const { return port_; }
  void Shutdown();

 private:
  RestFront() = default;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace cdh

#endif  // CDH_SERVER_REST_FRONT_H_
