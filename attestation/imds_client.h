// ImdsClient: the Azure instance metadata service calls of the az-*-vtpm attesters (attesters.md
// §2.4 step 3, §2.5 step 3). HttpImdsClient speaks plain HTTP to a configurable base URL
// (production http://169.254.169.254; tests a local server on 127.0.0.1:0).
//
// Codes: UNAVAILABLE (no answer, non-2xx), DEADLINE_EXCEEDED, INVALID_ARGUMENT (a response that
// does not parse). Implementations are thread-safe; HttpImdsClient is neither copyable nor movable.
#ifndef CDH_ATTESTATION_IMDS_CLIENT_H_
#define CDH_ATTESTATION_IMDS_CLIENT_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/call_context.h"

namespace cdh::attestation {

class ImdsClient {
 public:
  virtual ~ImdsClient() = default;
  // POST /acc/tdquote {"report": base64(TDREPORT)} → the raw TD quote bytes. A non-2xx answer is
  // retried once with URL-safe unpadded base64 (as the Azure SDK does).
  virtual absl::StatusOr<std::string> GetTdQuote(std::string_view td_report, const CallContext& ctx) = 0;
  // GET /metadata/THIM/amd/certification → DER of the VCEK certificate (`vcekCert` PEM).
  virtual absl::StatusOr<std::string> GetVcekDer(const CallContext& ctx) = 0;
};

class HttpImdsClient : public ImdsClient {
 public:
  // `base_url` like "http://169.254.169.254" or "http://127.0.0.1:41234" (http only; IMDS is a
  // link-local plain-HTTP service).
  static absl::StatusOr<std::unique_ptr<HttpImdsClient>> New(std::string base_url);
  HttpImdsClient(const HttpImdsClient&) = delete;
  HttpImdsClient& operator=(const HttpImdsClient&) = delete;

  absl::StatusOr<std::string> GetTdQuote(std::string_view td_report, const CallContext& ctx) override;
  absl::StatusOr<std::string> GetVcekDer(const CallContext& ctx) override;

 private:
  HttpImdsClient(std::string host, int port) : host_(std::move(host)), port_(port) {}
  std::string host_;
  int port_;
};

// DER bytes of the first "CERTIFICATE" block of a PEM text. INVALID_ARGUMENT otherwise.
absl::StatusOr<std::string> PemCertificateToDer(std::string_view pem);

}  // namespace cdh::attestation

#endif  // CDH_ATTESTATION_IMDS_CLIENT_H_
