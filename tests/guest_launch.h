// Launching the guest components the way the kata agent does (kata-containers
// src/agent/src/main.rs, launch_process): `attestation-agent --attestation_sock <uri> -c aa.toml`,
// wait for its socket; `confidential-data-hub -c cdh.toml`, wait for its socket; `api-server-rest
// --features <f> --bind <addr> --cdh_addr <uri>`, wait for its port. All three are our one binary
// under the names the build links (daemon/role_control.h). Shared by the end-to-end tests and
// bench/guest_components_bench. Test-only library code.
#ifndef CDH_TESTS_GUEST_LAUNCH_H_
#define CDH_TESTS_GUEST_LAUNCH_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/testing/process.h"

namespace cdh::testing {

// The daemon binary under another role's name (the links next to it).
std::string RoleBinary(const std::string& role);

// A loopback TCP port nobody listens on right now (bound to port 0 and released).
int FreeLoopbackPort();

// Polls `ready` every 10 ms until it holds or `timeout` passes, as kata's wait_for_path_to_exist
// polls for a socket another process creates (no event to wait on across processes).
bool WaitUntil(const std::function<bool()>& ready, absl::Duration timeout = absl::Seconds(30));

// What to launch. Paths are absolute; the sockets are where each entry point's arguments put them.
struct GuestLaunch {
  std::string aa_socket;        // --attestation_sock unix://<aa_socket>
  std::string aa_config;        // -c
  std::string cdh_socket;       // the `socket` of cdh_config, waited for
  std::string cdh_config;       // -c
  std::string rest_cdh_socket;  // --cdh_addr unix://<rest_cdh_socket> (locates the daemon)
  std::string rest_features = "all";
  int rest_port = 0;     // --bind 127.0.0.1:<rest_port>
  std::string log_path;  // every entry point's output, appended
};

// Starts the three in kata's order, appending each to `processes` as it starts; UNAVAILABLE
// naming the step when a process does not start or its socket or port does not appear in 30 s.
absl::Status LaunchAsKata(const GuestLaunch& launch, std::vector<std::unique_ptr<ChildProcess>>& processes);

}  // namespace cdh::testing

#endif  // CDH_TESTS_GUEST_LAUNCH_H_
