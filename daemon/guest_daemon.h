// GuestDaemon: one process serving the three guest components a CoCo guest runs next to the kata
// agent — the attestation agent (AA), the confidential data hub (CDH) and api-server-rest — with
// one attester, one attested KBS session per broker and one runtime-measurement event log
// (SharedAttestation, daemon/composition.h).
//
// Roles are added one at a time, in any order, each from the command line of its own entry point
// (daemon/main.cc; the launch mechanism is in daemon/role_control.h and the README):
//   AddAttestationAgent  attestation_agent.AttestationAgentService over ttrpc on its socket (0600),
//                        or over gRPC on a TCP address (upstream's grpc-aa)
//   AddDataHub           the CDH API over ttrpc (and gRPC when configured), as before
//   AddRestFront         the REST front (server/rest_front.h), policy from the data hub's
//                        `[rest_api]` when that role is served
// Each role can be added once. A role that fails to start leaves the others running.
//
// Thread-safe; neither copyable nor movable.
#ifndef CDH_DAEMON_GUEST_DAEMON_H_
#define CDH_DAEMON_GUEST_DAEMON_H_

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "daemon/composition.h"
#include "daemon/config.h"
#include "nlohmann/json.hpp"
#include "server/aa_handlers.h"
#include "server/api_handlers.h"
#include "server/grpc_server.h"
#include "server/rest_front.h"
#include "server/ttrpc_server.h"

namespace cdh {

// Entry points' names (argv[0]'s base name), as the kata agent runs them.
inline constexpr char kAaRole[] = "attestation-agent";
inline constexpr char kCdhRole[] = "confidential-data-hub";
inline constexpr char kRestRole[] = "api-server-rest";

// upstream ttrpc-aa's default socket.
inline constexpr char kDefaultAaSocket[] =
    "unix:///run/confidential-containers/attestation-agent/attestation-agent.sock";

// What an entry point asks for: its command line, parsed (paths absolute) by the entry point.
struct AaRoleRequest {
  // --attestation_sock: a unix:// address serves ttrpc (upstream's ttrpc-aa); "host:port" in
  // `grpc_address` serves gRPC on TCP instead (upstream's grpc-aa; needs cdh-grpc.so).
  UnixSocketAddress socket = *UnixSocketAddress::Parse(kDefaultAaSocket);
  std::optional<std::string> grpc_address;
  std::optional<std::string> config_path;
  std::optional<std::string> initdata_toml;    // --initdata-toml: bound, and sent to the broker
  std::optional<std::string> initdata_digest;  // --initdata-digest (standard base64): bound only
};
struct CdhRoleRequest {
  std::optional<std::string> config_path;
  std::string kernel_cmdline_path = "/proc/cmdline";
  std::map<std::string, std::string> env;  // AA_KBC_PARAMS, OFFLINE_FS_KBC_EXTRA_FILE_PATH, RUST_LOG
};
struct RestRoleRequest {
  std::string bind = "127.0.0.1:8006";
  std::string features = "resource";
};

// Requests on the control socket: {"role": "<name>", ...fields}. INVALID_ARGUMENT when malformed.
nlohmann::json RoleRequestToJson(const AaRoleRequest& r);
nlohmann::json RoleRequestToJson(const CdhRoleRequest& r);
nlohmann::json RoleRequestToJson(const RestRoleRequest& r);

class GuestDaemon : public RestBackends {
 public:
  GuestDaemon() = default;
  ~GuestDaemon() override { Shutdown(absl::ZeroDuration()); }
  GuestDaemon(const GuestDaemon&) = delete;
  GuestDaemon& operator=(const GuestDaemon&) = delete;

  // FAILED_PRECONDITION when the role is already served or a live server owns its socket;
  // INVALID_ARGUMENT for a bad configuration or arguments; UNAUTHENTICATED / PERMISSION_DENIED when
  // the init data does not match the TEE; UNAVAILABLE when a socket or port cannot be bound.
  absl::Status AddAttestationAgent(const AaRoleRequest& request) ABSL_LOCKS_EXCLUDED(roles_mu_);
  absl::Status AddDataHub(const CdhRoleRequest& request) ABSL_LOCKS_EXCLUDED(roles_mu_);
  absl::Status AddRestFront(const RestRoleRequest& request) ABSL_LOCKS_EXCLUDED(roles_mu_);
  // Dispatches a control-socket request (RoleRequestToJson's form).
  absl::Status AddRole(const nlohmann::json& request);

  // Stops every role: in-flight calls get up to `grace`; socket files are removed. Idempotent.
  void Shutdown(absl::Duration grace) ABSL_LOCKS_EXCLUDED(roles_mu_);

  ApiHandlers* cdh() ABSL_LOCKS_EXCLUDED(mu_) override;
  AaHandlers* aa() ABSL_LOCKS_EXCLUDED(mu_) override;

 private:
  absl::Mutex roles_mu_;  // one role change at a time
  SharedAttestation shared_;

  // The data hub role.
  std::unique_ptr<Hub> hub_ ABSL_GUARDED_BY(roles_mu_);
  std::unique_ptr<ApiHandlers> cdh_handlers_ ABSL_GUARDED_BY(roles_mu_);
  std::unique_ptr<GrpcServer> grpc_ ABSL_GUARDED_BY(roles_mu_);
  std::unique_ptr<TtrpcServer> cdh_ttrpc_ ABSL_GUARDED_BY(roles_mu_);
  std::optional<RestPolicy> rest_policy_ ABSL_GUARDED_BY(roles_mu_);
  // The attestation agent role.
  std::unique_ptr<AttestationAgent> agent_ ABSL_GUARDED_BY(roles_mu_);
  std::unique_ptr<AaHandlers> aa_handlers_ ABSL_GUARDED_BY(roles_mu_);
  std::unique_ptr<TtrpcServer> aa_ttrpc_ ABSL_GUARDED_BY(roles_mu_);
  std::unique_ptr<GrpcServer> aa_grpc_ ABSL_GUARDED_BY(roles_mu_);
  // The REST front; it reads the policy through this pointer for its whole life.
  std::unique_ptr<RestPolicy> served_policy_ ABSL_GUARDED_BY(roles_mu_);
  std::unique_ptr<RestFront> rest_ ABSL_GUARDED_BY(roles_mu_);

  // What the REST front forwards to, published once a role is up.
  absl::Mutex mu_;
  ApiHandlers* cdh_published_ ABSL_GUARDED_BY(mu_) = nullptr;
  AaHandlers* aa_published_ ABSL_GUARDED_BY(mu_) = nullptr;
};

}  // namespace cdh

#endif  // CDH_DAEMON_GUEST_DAEMON_H_
