// CurlHttpClient: HttpClient over libcurl (HTTP/1.1, HTTPS via OpenSSL).
//
// - TLS: when `ca_pem` is set it is the only trust anchor, for this client's connections only
//   (CURLOPT_CAINFO_BLOB; the process-wide store is untouched). It may hold a chain or just the
//   server's own certificate (libcurl enables partial-chain verification). The host name is
//   always verified. Without `ca_pem`, the system store is used.
// - Proxies: libcurl's defaults, i.e. `https_proxy`/`HTTPS_PROXY`, `http_proxy` and
//   `no_proxy`/`NO_PROXY` from the environment are honoured (kbs-protocol.md §4.5).
// - Every request has a timeout: min(request_timeout, caller's deadline); connects have
//   connect_timeout. Response bodies larger than max_response_bytes fail with RESOURCE_EXHAUSTED.
// - Connections are kept alive and reused (a small pool of easy handles).
// Thread-safe; neither copyable nor movable.
#ifndef CDH_KBS_CLIENT_CURL_HTTP_CLIENT_H_
#define CDH_KBS_CLIENT_CURL_HTTP_CLIENT_H_

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "kbs-client/http_client.h"

namespace cdh::kbs {

struct CurlHttpClientOptions {
  std::string ca_pem;  // PEM certificates; empty = system trust store
  absl::Duration connect_timeout = absl::Seconds(10);
  absl::Duration request_timeout = absl::Seconds(30);
  size_t max_response_bytes = 16 << 20;
  std::string user_agent = "cdh-kbs-client/0.1";
};

class CurlHttpClient : public HttpClient {
 public:
  // INVALID_ARGUMENT when `ca_pem` is set but holds no parseable certificate; INTERNAL when
  // libcurl cannot be initialised.
  static absl::StatusOr<std::unique_ptr<CurlHttpClient>> New(CurlHttpClientOptions options);
  ~CurlHttpClient() override;
  CurlHttpClient(const CurlHttpClient&) = delete;
  CurlHttpClient& operator=(const CurlHttpClient&) = delete;

  absl::StatusOr<HttpResponse> Send(const HttpRequest& request, absl::Time deadline) override;

 private:
  explicit CurlHttpClient(CurlHttpClientOptions options) : options_(std::move(options)) {}
  void* TakeHandle();
  void ReturnHandle(void* handle);

  const CurlHttpClientOptions options_;
  std::mutex mu_;
  std::vector<void*> idle_;  // CURL* easy handles with live connections
};

}  // namespace cdh::kbs

#endif  // CDH_KBS_CLIENT_CURL_HTTP_CLIENT_H_
