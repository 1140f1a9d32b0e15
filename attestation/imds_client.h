// ImdsClient: the Azure instance metadata service calls of the az-*-vtpm attesters (attesters.md
// §2.4 step 3, §2.5 step 3). HttpImdsClient speaks plain HTTP, through the one outbound HTTP
// stack (http/http_client.h), to a configurable base URL (production http://169.254.169.254;
// tests a local server on 127.0.0.1:0).
//
// Codes: UNAVAILABLE (no answer, non-2xx), DEADLINE_EXCEEDED, INVALID_ARGUMENT (a response that
// does not parse or exceeds 1 MiB). Implementations are thread-safe; HttpImdsClient is neither
// copyable nor movable.
#ifndef CDH_ATTESTATION_IMDS_CLIENT_H_
#define CDH_ATTESTATION_IMDS_CLIENT_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/call_context.h"
#include "http/http_client.h"

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
  // Largest IMDS answer accepted, in bytes.
  static constexpr size_t kMaxResponseBytes = 1 << 20;

  // `base_url` like "http://169.254.169.254" or "http://127.0.0.1:41234" (http only; IMDS is a
  // link-local plain-HTTP service). Uses a CurlHttpClient that never goes through a proxy
  // (Azure requires IMDS to be reached directly) with a 30 s request timeout.
  // INVALID_ARGUMENT for a URL that is not http://host[:port][/path].
  static absl::StatusOr<std::unique_ptr<HttpImdsClient>> New(std::string base_url);
  // As above over the given client (a test double, or a shared stack).
  static absl::StatusOr<std::unique_ptr<HttpImdsClient>> New(std::string base_url,
                                                             std::unique_ptr<http::HttpClient> http);
  HttpImdsClient(const HttpImdsClient&) = delete;
  HttpImdsClient& operator=(const HttpImdsClient&) = delete;

  absl::StatusOr<std::string> GetTdQuote(std::string_view td_report, const CallContext& ctx) override;
  absl::StatusOr<std::string> GetVcekDer(const CallContext& ctx) override;

 private:
  HttpImdsClient(std::string base_url, std::unique_ptr<http::HttpClient> http)
      : base_url_(std::move(base_url)), http_(std::move(http)) {}
  // One exchange; a non-2xx answer is returned as a response, transport failures as statuses
  // with the codes of the class comment.
  absl::StatusOr<http::HttpResponse> Exchange(http::HttpRequest request, const CallContext& ctx);

  const std::string base_url_;  // without a trailing '/'
  const std::unique_ptr<http::HttpClient> http_;
};

// DER bytes of the first "CERTIFICATE" block of a PEM text. INVALID_ARGUMENT otherwise.
absl::StatusOr<std::string> PemCertificateToDer(std::string_view pem);

}  // namespace cdh::attestation

#endif  // CDH_ATTESTATION_IMDS_CLIENT_H_
