// NewHttpClient and CheckHttpUrl (http/curl_http_client.h) in the daemon: libcurl is not linked;
// the module cdh-curl.so is loaded when a client makes its first exchange (or a URL is checked).
// A client made before that holds only its options.
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/module_loader.h"
#include "http/curl_http_client.h"

namespace cdh::http {
namespace {

constexpr char kWhat[] = "HTTP support (libcurl)";

// Thread-safe: the first exchange builds the client under `mu_`; later ones only read it.
class DeferredHttpClient : public HttpClient {
 public:
  explicit DeferredHttpClient(CurlHttpClientOptions options) : options_(std::move(options)) {}

  absl::StatusOr<HttpResponse> Send(const HttpRequest& request, absl::Time deadline) override {
    absl::StatusOr<HttpClient*> client = Client();
    if (!client.ok()) return client.status();
    return (*client)->Send(request, deadline);
  }
  absl::StatusOr<HttpResponse> SendStreaming(const HttpRequest& request, const HttpBodySink& sink,
                                             absl::Time deadline) override {
    absl::StatusOr<HttpClient*> client = Client();
    if (!client.ok()) return client.status();
    return (*client)->SendStreaming(request, sink, deadline);
  }

 private:
  absl::StatusOr<HttpClient*> Client() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    if (client_ != nullptr) return client_.get();
    absl::StatusOr<CurlModuleNewClient> entry =
        ModuleEntry<CurlModuleNewClient>(kCurlModuleFile, kCurlModuleNewClient, kWhat);
    if (!entry.ok()) return entry.status();
    CurlHttpClientOptions options = options_;
    absl::StatusOr<std::unique_ptr<HttpClient>> client = absl::InternalError("cdh-curl.so returned nothing");
    (*entry)(&options, &client);
    if (!client.ok()) return client.status();
    client_ = std::move(client).value();
    return client_.get();
  }

  const CurlHttpClientOptions options_;
  absl::Mutex mu_;
  std::unique_ptr<HttpClient> client_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

absl::StatusOr<std::unique_ptr<HttpClient>> NewHttpClient(CurlHttpClientOptions options) {
  if (absl::Status valid = ValidateCurlHttpClientOptions(options); !valid.ok()) return valid;
  return std::make_unique<DeferredHttpClient>(std::move(options));
}

absl::Status CheckHttpUrl(std::string_view url, std::initializer_list<std::string_view> schemes,
                          std::string_view what) {
  absl::StatusOr<CurlModuleCheckUrl> entry =
      ModuleEntry<CurlModuleCheckUrl>(kCurlModuleFile, kCurlModuleCheckUrl, kWhat);
  if (!entry.ok()) return entry.status();
  absl::Status out = absl::InternalError("cdh-curl.so returned nothing");
  (*entry)(url, &schemes, what, &out);
  return out;
}

}  // namespace cdh::http
