// CurlHttpClient: HttpClient over libcurl (HTTP/1.1, HTTPS via OpenSSL).
//
// - TLS: when `ca_pem` is set it is the only trust anchor, for this client's connections only
//   (CURLOPT_CAINFO_BLOB; the process-wide store is untouched). It may hold a chain or just the
//   server's own certificate (libcurl enables partial-chain verification). The host name is
//   always verified. Without `ca_pem`, the system store is used.
// - Proxies: libcurl's defaults, i.e. `https_proxy`/`HTTPS_PROXY`, `http_proxy` and
//   `no_proxy`/`NO_PROXY` from the environment are honoured (Trustee's KBS client does the same),
//   unless `use_environment_proxy` is false (link-local services such as Azure IMDS must be
//   reached directly).
// - Every request has a timeout: min(request_timeout, caller's deadline); connects have
//   connect_timeout. Response bodies larger than max_response_bytes fail with RESOURCE_EXHAUSTED.
// - Connections are kept alive and reused (a small pool of easy handles).
// Thread-safe; neither copyable nor movable.
#ifndef CDH_HTTP_CURL_HTTP_CLIENT_H_
#define CDH_HTTP_CURL_HTTP_CLIENT_H_

#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "http/http_client.h"

namespace cdh::http {

struct CurlHttpClientOptions {
  std::string ca_pem;  // PEM certificates; empty = system trust store
  absl::Duration connect_timeout = absl::Seconds(10);
  absl::Duration request_timeout = absl::Seconds(30);
  size_t max_response_bytes = 16 << 20;  // bytes of response body
  std::string user_agent = "cdh-kbs-client/0.1";
  // false: never use a proxy, whatever the environment says.
  bool use_environment_proxy = true;
};

// Checks that `url` is an absolute URL with scheme `http` or `https` (as listed in `schemes`,
// e.g. {"http"}) and a host, using libcurl's own URL parser (the one Send uses), and that it has
// no user info. INVALID_ARGUMENT naming `what` otherwise.
absl::Status CheckHttpUrl(std::string_view url, std::initializer_list<std::string_view> schemes,
                          std::string_view what);

class CurlHttpClient : public HttpClient {
 public:
  // INVALID_ARGUMENT when `ca_pem` is set but holds no parseable
  // certificate; INTERNAL when libcurl cannot be initialised.
  static absl::StatusOr<std::unique_ptr<CurlHttpClient>> New(CurlHttpClientOptions options);
  ~CurlHttpClient() override;
  CurlHttpClient(const CurlHttpClient&) = delete;
  CurlHttpClient& operator=(const CurlHttpClient&) = delete;

  absl::StatusOr<HttpResponse> Send(const HttpRequest& request, absl::Time deadline) override;

 private:
  explicit CurlHttpClient(CurlHttpClientOptions options) : options_(std::move(options)) {}
  void* TakeHandle() ABSL_LOCKS_EXCLUDED(mu_);
  void ReturnHandle(void* handle) ABSL_LOCKS_EXCLUDED(mu_);

  const CurlHttpClientOptions options_;
  absl::Mutex mu_;
  std::vector<void*> idle_ ABSL_GUARDED_BY(mu_);  // CURL* easy handles with live connections
};

}  // namespace cdh::http

#endif  // CDH_HTTP_CURL_HTTP_CLIENT_H_
