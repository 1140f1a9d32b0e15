// FaultBroker: tests/fault_broker/fault_broker.py as a child process on 127.0.0.1 — a Key
// Broker Service that misbehaves on demand (see the script's docstring for every behaviour),
// for the broker fault matrix and the daemon's departed-caller tests.
//
// Neither copyable nor movable; not thread-safe (one test thread drives it, though SetMode and
// Stats may be called while other threads wait on the broker).
#ifndef CDH_TESTS_FAULT_BROKER_FAULT_BROKER_H_
#define CDH_TESTS_FAULT_BROKER_FAULT_BROKER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/testing/process.h"
#include "common/testing/temp_dir.h"
#include "nlohmann/json.hpp"

namespace cdh::testing {

class FaultBroker {
 public:
  // Starts the broker and waits (at most 20 s) until it listens. UNAVAILABLE with its log
  // otherwise.
  static absl::StatusOr<std::unique_ptr<FaultBroker>> Start();
  ~FaultBroker();
  FaultBroker(const FaultBroker&) = delete;
  FaultBroker& operator=(const FaultBroker&) = delete;

  // Base URLs: plain HTTP, and HTTPS with a certificate for 127.0.0.1 from ca_pem() ("good"),
  // an expired one ("expired") and one for another host name ("wronghost").
  std::string url() const;
  std::string tls_url(const std::string& which) const;
  std::string ca_pem() const;        // the CA of every TLS listener
  std::string other_ca_pem() const;  // a CA that signed none of them

  // "<step>:<behaviour>" or "healthy" (fault_broker.py). Fails the test when not accepted.
  void SetMode(const std::string& mode);
  // {"auth","attest","resource": requests received; "open": connections open now (besides the
  //  one asking);
  //  "connections": connections accepted so far}.
  nlohmann::json Stats();
  std::string Log() const;

 private:
  FaultBroker() : dir_("fault-broker") {}
  TempDir dir_;
  std::unique_ptr<ChildProcess> child_;
  nlohmann::json ports_;
};

// A 127.0.0.1 URL on which nothing listens (a port bound, then released).
std::string RefusingUrl();

}  // namespace cdh::testing

#endif  // CDH_TESTS_FAULT_BROKER_FAULT_BROKER_H_
