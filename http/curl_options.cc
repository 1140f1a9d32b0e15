// ValidateCurlHttpClientOptions (http/curl_http_client.h): needs no libcurl, so that the daemon
// checks a client's options when the client is configured, before libcurl is loaded.
#include "common/strings.h"
#include "crypto/x509.h"
#include "http/curl_http_client.h"

namespace cdh::http {

absl::Status ValidateCurlHttpClientOptions(const CurlHttpClientOptions& options) {
  if (!options.ca_pem.empty()) {
    auto count = crypto::CountPemCertificates(options.ca_pem);
    if (!count.ok()) return absl::InvalidArgumentError(StrCat("CA certificates: ", ToStd(count.status().message())));
  }
  if (!options.extra_ca_pem.empty()) {
    if (!options.ca_pem.empty()) return absl::InvalidArgumentError("ca_pem and extra_ca_pem are exclusive");
    auto count = crypto::CountPemCertificates(options.extra_ca_pem);
    if (!count.ok()) {
      return absl::InvalidArgumentError(StrCat("extra root certificates: ", ToStd(count.status().message())));
    }
  }
  return absl::OkStatus();
}

}  // namespace cdh::http
