// RestPolicy: which REST routes (server/rest_front.h) a caller may use. Upstream's api-server-rest
// has none — any process that reaches 127.0.0.1:8006 gets any resource the guest can fetch. This
// policy is read from the `[rest_api]` table of the data hub's configuration, which the kata agent
// takes from the pod's init data (so it is measured and checked by the broker with the rest of it):
//
//   [rest_api]
//   default = "deny"                       # "allow" (default) | "deny": when no rule matches
//   [[rest_api.rules]]
//   name = "scorer-reads-its-key"          # required; quoted in refusals and logs
//   cgroup = "cri-containerd-4f2a"         # optional: the caller's cgroup path contains this
//   routes = ["resource:default/key/*", "aa:token"]
//   effect = "allow"                        # "allow" (default) | "deny"
//
// Routes: "resource:<repo>/<type>/<tag>", "aa:token", "aa:evidence", "aa:additional-evidence",
// "aa:aael". A pattern is exact, or a prefix when it ends in `*`. Rules are tried in order; the
// first whose cgroup and a route match decides. The caller's cgroup (/proc/<pid>/cgroup of the
// process owning the client's TCP socket, server/peer_process.h) is looked up only when a rule
// names one; a caller that cannot be identified (it left, or its address cannot be traced, e.g.
// IPv6) matches every deny rule that names a cgroup and no allow rule that does (fail closed).
//
// Copyable value type; thread-safe for concurrent const use.
#ifndef CDH_SERVER_REST_POLICY_H_
#define CDH_SERVER_REST_POLICY_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace cdh {

class RestPolicy {
 public:
  // `table` is the `[rest_api]` table (as JSON). INVALID_ARGUMENT naming the key for a malformed
  // value: a rule without a name or routes, an unknown route kind, an effect or default other than
  // allow/deny.
  static absl::StatusOr<RestPolicy> Parse(const nlohmann::json& table);

  // std::nullopt when `route` is allowed for a caller in `caller_cgroup` (nullopt: unknown caller);
  // otherwise the name of the rule that refused ("default" for the default).
  std::optional<std::string> Refusal(std::string_view route, const std::optional<std::string>& caller_cgroup) const;

  // Whether any rule names a cgroup (the caller must then be looked up).
  bool NeedsCallerCgroup() const;

 private:
  struct Rule {
    std::string name;
    std::optional<std::string> cgroup;
    std::vector<std::string> routes;
    bool allow = true;
  };
  std::vector<Rule> rules_;
  bool default_allow_ = true;
};

}  // namespace cdh

#endif  // CDH_SERVER_REST_POLICY_H_
