// FakeImds: a local Azure instance metadata service on 127.0.0.1:<free port> for tests; it stands
// in for Azure's IMDS, which cannot be reached here. POST /acc/tdquote answers a fake v4 TD quote
// (fake_tee_reports.h) carrying the posted TDREPORT's reportdata; GET
// /metadata/THIM/amd/certification answers kVcekPem (DER "VCEK-DER"). Both require
// `Metadata: true`. Thread-safe; neither copyable nor movable.
#ifndef CDH_ATTESTATION_FAKE_IMDS_H_
#define CDH_ATTESTATION_FAKE_IMDS_H_

#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace httplib {
class Server;
}

namespace cdh::attestation {

class FakeImds {
 public:
  static constexpr char kVcekPem[] = "-----BEGIN CERTIFICATE-----\nVkNFSy1ERVI=\n-----END CERTIFICATE-----\n";

  FakeImds();
  ~FakeImds();
  FakeImds(const FakeImds&) = delete;
  FakeImds& operator=(const FakeImds&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // POST /acc/tdquote requests received so far.
  int td_quote_calls() const {
    absl::MutexLock lock(&mu_);
    return td_quote_calls_;
  }

 private:
  mutable absl::Mutex mu_;
  int td_quote_calls_ ABSL_GUARDED_BY(mu_) = 0;
  std::unique_ptr<httplib::Server> server_;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace cdh::attestation

#endif  // CDH_ATTESTATION_FAKE_IMDS_H_
