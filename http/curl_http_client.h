// CurlHttpClient: HttpClient over libcurl (HTTP/1.1, HTTPS via OpenSSL).
//
// - TLS: when `ca_pem` is set it is the only trust anchor, for this client's connections only
//   (CURLOPT_CAINFO_BLOB; the process-wide store is untouched). It may hold a chain or just the
//   server's own certificate (libcurl enables partial-chain verification). The host name is
//   always verified. Without `ca_pem`, the system store is used.
// - `extra_ca_pem` instead adds trust anchors to the system store (image registries,
//   `[image] extra_root_certificates`); `ca_pem` and `extra_ca_pem` are exclusive.
// - Proxies: by default libcurl's, i.e. `https_proxy`/`HTTPS_PROXY`, `http_proxy` and
//   `no_proxy`/`NO_PROXY` from the environment are honoured (as Trustee's KBS client does). With
//   `explicit_proxies` only the configured `https_proxy`/`http_proxy`/`no_proxy` apply and the
//   environment is ignored (`[image.image_pull_proxy]`); with none configured, no proxy is
//   used at all (Azure IMDS must be reached directly).
// - SendStreaming has no total timeout besides the caller's deadline; a transfer that moves no
//   byte for `stall_timeout` is aborted (UNAVAILABLE).
// - Every request has a timeout: min(request_timeout, caller's deadline); connects have
//   connect_timeout. Response bodies larger than max_response_bytes fail with RESOURCE_EXHAUSTED.
// - Connections are kept alive and reused (a small pool of easy handles), but only after a
//   complete exchange that ended in 2xx/3xx; any other outcome closes the connection.
// - A request whose header block (all header lines, secret ones included) exceeds
//   max_request_header_bytes is refused before it is sent (RESOURCE_EXHAUSTED naming both
//   sizes) rather than answered 431 by the server (nginx and Apache accept 8 KiB per header line by
//   default).
// - A request's `cancellation` wakes the transfer's wait (curl_multi_wakeup), so a departed
//   caller's exchange ends at once (CANCELLED) and its connection is closed.
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
  std::string ca_pem;        // PEM certificates; empty = system trust store
  std::string extra_ca_pem;  // PEM certificates added to the system trust store
  bool explicit_proxies = false;
  std::string https_proxy;  // used for https:// URLs when explicit_proxies
  std::string http_proxy;   // used for http:// URLs when explicit_proxies
  std::string no_proxy;     // comma list of hosts/domains/IPs that bypass the proxies
  absl::Duration stall_timeout = absl::Seconds(60);
  absl::Duration connect_timeout = absl::Seconds(10);
  absl::Duration request_timeout = absl::Seconds(30);
  size_t max_response_bytes = 16 << 20;        // bytes of response body
  size_t max_request_header_bytes = 64 << 10;  // bytes of request header lines
  std::string user_agent = "cdh-kbs-client/0.1";
};

// Checks that `url` is an absolute URL with scheme `http` or `https` (as listed in `schemes`,
// e.g. {"http"}) and a host, using libcurl's own URL parser (the one Send uses), and that it has
// no user info. INVALID_ARGUMENT naming `what` otherwise.
absl::Status CheckHttpUrl(std::string_view url, std::initializer_list<std::string_view> schemes, std::string_view what);

// The checks of CurlHttpClient::New that need no libcurl: INVALID_ARGUMENT when `ca_pem` or
// `extra_ca_pem` is set but holds no parseable certificate, or both are set.
absl::Status ValidateCurlHttpClientOptions(const CurlHttpClientOptions& options);

// The HttpClient the daemon's components use for outbound HTTP(S): a CurlHttpClient. In every
// binary but the daemon it is CurlHttpClient::New (http/curl_factory.cc). The daemon links
// http/curl_deferred.cc instead: it checks `options` at once (ValidateCurlHttpClientOptions) and
// loads libcurl, through the module cdh-curl.so beside it, only at the client's first exchange,
// so a daemon that starts and idles never maps libcurl and its dependencies. That exchange fails
// with FAILED_PRECONDITION when the module cannot be loaded. Codes otherwise as
// CurlHttpClient::New. CheckHttpUrl, which uses libcurl's URL parser, is split the same way.
absl::StatusOr<std::unique_ptr<HttpClient>> NewHttpClient(CurlHttpClientOptions options);

class CurlHttpClient : public HttpClient {
 public:
  // INVALID_ARGUMENT when `ca_pem` is set but holds no parseable
  // certificate; INTERNAL when libcurl cannot be initialised.
  static absl::StatusOr<std::unique_ptr<CurlHttpClient>> New(CurlHttpClientOptions options);
  ~CurlHttpClient() override;
  CurlHttpClient(const CurlHttpClient&) = delete;
  CurlHttpClient& operator=(const CurlHttpClient&) = delete;

  absl::StatusOr<HttpResponse> Send(const HttpRequest& request, absl::Time deadline) override;
  absl::StatusOr<HttpResponse> SendStreaming(const HttpRequest& request, const HttpBodySink& sink,
                                             absl::Time deadline) override;

 private:
  explicit CurlHttpClient(CurlHttpClientOptions options) : options_(std::move(options)) {}
  void* TakeHandle() ABSL_LOCKS_EXCLUDED(mu_);
  void ReturnHandle(void* handle) ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<HttpResponse> Perform(const HttpRequest& request, const HttpBodySink* sink, absl::Time deadline);

  const CurlHttpClientOptions options_;
  absl::Mutex mu_;
  std::vector<void*> idle_ ABSL_GUARDED_BY(mu_);  // Transfer* (easy + multi handle) with live connections
};

// The module cdh-curl.so (http/curl_module.cc), for http/curl_deferred.cc and the module only:
// file name (looked up beside the executable) and entry points, which run NewHttpClient and
// CheckHttpUrl of http/curl_factory.cc and store the result in `*out`.
inline constexpr char kCurlModuleFile[] = "cdh-curl.so";
inline constexpr char kCurlModuleNewClient[] = "cdh_curl_new_client";
using CurlModuleNewClient = void (*)(CurlHttpClientOptions* options, absl::StatusOr<std::unique_ptr<HttpClient>>* out);
inline constexpr char kCurlModuleCheckUrl[] = "cdh_curl_check_url";
using CurlModuleCheckUrl = void (*)(std::string_view url, const std::initializer_list<std::string_view>* schemes,
                                    std::string_view what, absl::Status* out);

}  // namespace cdh::http

#endif  // CDH_HTTP_CURL_HTTP_CLIENT_H_
