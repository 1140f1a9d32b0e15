// HttpClient: one outbound HTTP exchange. Every outbound HTTP call of the data hub (the KBS
// client, the Azure IMDS client, the image registry client) goes through this interface, so
// tests can substitute it; the production implementation is CurlHttpClient
// (http/curl_http_client.h), the scripted fake FakeHttpClient (http/fake_http_client.h).
//
// Contract: thread-safe (Send may run concurrently); neither copyable nor movable. Redirects are
// never followed (a caller talks to the host it was configured with). Request headers may carry
// credentials (Cookie, Authorization): implementations never log headers or bodies.
// Status codes of Send (an HTTP error status is NOT an error here: it is in the response):
//   INVALID_ARGUMENT    the URL or method is malformed
//   UNAVAILABLE         connection refused/reset, DNS failure, truncated response (retryable)
//   FAILED_PRECONDITION TLS verification of the server failed (untrusted certificate, host
//                       name mismatch): retrying cannot help
//   RESOURCE_EXHAUSTED  the response body exceeds the configured limit, or the request's header
//                       block exceeds it (refused before anything is sent; the message names
//                       both sizes)
//   DEADLINE_EXCEEDED   `deadline` passed before the exchange completed
//   CANCELLED           `request.cancellation` fired (the caller departed); the exchange is
//                       abandoned and its connection closed
// A connection is kept for reuse only after a complete, clean exchange (a whole 2xx/3xx response);
// one that ended in an error status or a transport failure is closed, so whatever the server left
// unread or unsent cannot reach the next request.
#ifndef CDH_HTTP_HTTP_CLIENT_H_
#define CDH_HTTP_HTTP_CLIENT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/cancellation.h"
#include "common/secret_bytes.h"

namespace cdh::http {

// A request header whose value is a credential (`Authorization`, `Cookie`): it stays in the
// zeroizing type from the caller to libcurl's own copy, which is wiped before it is freed.
// Move-only.
struct SecretHeader {
  std::string name;
  SecretBytes value;
};

// Move-only (secret headers); Clone() copies explicitly.
struct HttpRequest {
  using Headers = std::vector<std::pair<std::string, std::string>>;
  HttpRequest() = default;
  HttpRequest(std::string method, std::string url, Headers headers = {}, std::string body = {})
      : method(std::move(method)), url(std::move(url)), headers(std::move(headers)), body(std::move(body)) {}

  std::string method;  // "GET" | "POST"
  std::string url;     // absolute http:// or https:// URL
  Headers headers;     // headers that carry no secret
  std::string body;
  std::vector<SecretHeader> secret_headers;  // sent after `headers`
  // When it fires the exchange is abandoned with CANCELLED (null: never).
  std::shared_ptr<const Cancellation> cancellation;

  HttpRequest Clone() const {
    HttpRequest copy(method, url, headers, body);
    copy.cancellation = cancellation;
    for (const SecretHeader& h : secret_headers) copy.secret_headers.push_back({h.name, h.value.Clone()});
    return copy;
  }
  // The value of secret header `name` (exact case), or null.
  const SecretBytes* SecretHeaderValue(std::string_view name) const {
    for (const SecretHeader& h : secret_headers) {
      if (h.name == name) return &h.value;
    }
    return nullptr;
  }
};

// A complete response. A streaming variant (body delivered in chunks) can be added beside Send
// without changing these types.
struct HttpResponse {
  int status = 0;
  // Header names lower-cased, in the order received; repeated headers appear repeatedly.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // All values of header `name` (lower-case).
  std::vector<std::string> HeaderValues(std::string_view name) const {
    std::vector<std::string> out;
    for (const auto& [k, v] : headers) {
      if (k == name) out.push_back(v);
    }
    return out;
  }
};

// Receives a 2xx response body in chunks, in order (SendStreaming). Returning an error aborts the
// transfer and that status is what SendStreaming returns.
using HttpBodySink = std::function<absl::Status(std::span<const uint8_t> chunk)>;

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // Sends `request` and returns the whole response, or one of the codes above. `deadline` is
  // absolute; absl::InfiniteFuture() leaves only the implementation's own request timeout.
  virtual absl::StatusOr<HttpResponse> Send(const HttpRequest& request, absl::Time deadline) = 0;

  // Like Send, for bodies of any size (image layers): a 2xx body goes to `sink` as it arrives and
  // is not kept (the response's `body` stays empty, so memory does not grow with the body); any
  // other status keeps its body in the response, bounded by the client's response limit. Only
  // `deadline` bounds the whole transfer (implementations may abort a stalled one: UNAVAILABLE).
  // The default implementation buffers through Send (enough for fakes).
  virtual absl::StatusOr<HttpResponse> SendStreaming(const HttpRequest& request, const HttpBodySink& sink,
                                                     absl::Time deadline) {
    auto response = Send(request, deadline);
    if (!response.ok() || response->status < 200 || response->status > 299) return response;
    std::string body = std::move(response->body);
    response->body.clear();
    absl::Status st = sink(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(body.data()), body.size()));
    if (!st.ok()) return st;
    return response;
  }
};

}  // namespace cdh::http

#endif  // CDH_HTTP_HTTP_CLIENT_H_
