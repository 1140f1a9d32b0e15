#include "http/curl_http_client.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <optional>

#include <curl/curl.h>

#include "common/secret_bytes.h"
#include "common/strings.h"

namespace cdh::http {
namespace {

constexpr size_t kMaxIdleHandles = 8;
constexpr size_t kMaxHeaderBytes = 64 << 10;

// An easy handle and the multi handle it runs in. The pair is kept together because the
// multi handle holds the connection cache: returning both to the pool keeps connections for
// the next request, as curl_easy_perform's hidden multi handle would. Driving the transfer
// through our own multi handle lets a departing caller wake the wait at once
// (curl_multi_wakeup) instead of at libcurl's next progress callback, up to a second later.
struct Transfer {
  CURL* easy = nullptr;
  CURLM* multi = nullptr;
};

void FreeTransfer(Transfer* t) {
  if (t == nullptr) return;
  if (t->easy != nullptr) curl_easy_cleanup(t->easy);
  if (t->multi != nullptr) curl_multi_cleanup(t->multi);
  delete t;
}

// Runs the transfer of `t` to its end, or until `cancellation` fires:
// CURLE_ABORTED_BY_CALLBACK then, as a progress callback's abort would give.
CURLcode RunTransfer(Transfer& t, const Cancellation* cancellation) {
  if (cancellation != nullptr && cancellation->cancelled()) return CURLE_ABORTED_BY_CALLBACK;
  if (curl_multi_add_handle(t.multi, t.easy) != CURLM_OK) return CURLE_FAILED_INIT;
  CURLcode rc = CURLE_FAILED_INIT;
  {
    CancelCallback wake(cancellation, [multi = t.multi] { curl_multi_wakeup(multi); });
    bool done = false;
    while (!done) {
      int running = 0;
      if (curl_multi_perform(t.multi, &running) != CURLM_OK) break;
      int queued = 0;
      while (CURLMsg* message = curl_multi_info_read(t.multi, &queued)) {
        if (message->msg == CURLMSG_DONE && message->easy_handle == t.easy) {
          rc = message->data.result;
          done = true;
        }
      }
      if (done) break;
      if (cancellation != nullptr && cancellation->cancelled()) {
        rc = CURLE_ABORTED_BY_CALLBACK;
        break;
      }
      // libcurl shortens the wait to its own timers (timeouts, retries); a wakeup ends it early.
      if (curl_multi_poll(t.multi, nullptr, 0, 1000, nullptr) != CURLM_OK) break;
    }
  }
  curl_multi_remove_handle(t.multi, t.easy);
  return rc;
}

struct Sink {
  HttpResponse* response;
  size_t max_body;
  size_t header_bytes = 0;
  bool body_too_large = false;
  const HttpBodySink* stream = nullptr;  // SendStreaming: 2xx bodies go here
  CURL* curl = nullptr;
  absl::Status stream_status;
};

size_t OnBody(char* data, size_t size, size_t nmemb, void* user) {
  auto* sink = static_cast<Sink*>(user);
  size_t n = size * nmemb;
  if (sink->stream != nullptr) {
    long status = 0;
    curl_easy_getinfo(sink->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 200 && status <= 299) {
      sink->stream_status = (*sink->stream)(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(data), n));
      return sink->stream_status.ok() ? n : 0;
    }
  }
  if (sink->response->body.size() + n > sink->max_body) {
    sink->body_too_large = true;
    return 0;  // aborts the transfer with CURLE_WRITE_ERROR
  }
  sink->response->body.append(data, n);
  return n;
}

size_t OnHeader(char* data, size_t size, size_t nmemb, void* user) {
  auto* sink = static_cast<Sink*>(user);
  size_t n = size * nmemb;
  sink->header_bytes += n;
  if (sink->header_bytes > kMaxHeaderBytes) return 0;
  std::string_view line(data, n);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.starts_with("HTTP/")) {  // a new response (after 100-continue or a proxy CONNECT)
    sink->response->headers.clear();
    return n;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return n;
  std::string name = AsciiToLower(line.substr(0, colon));
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  sink->response->headers.emplace_back(std::move(name), std::string(value));
  return n;
}

// Header lines may carry credentials (Cookie, Authorization): wiped before they are freed.
struct SlistDeleter {
  void operator()(curl_slist* l) const {
    for (curl_slist* node = l; node != nullptr; node = node->next) {
      if (node->data != nullptr) SecretBytes::WipeForeign(node->data, std::strlen(node->data));
    }
    curl_slist_free_all(l);
  }
};

bool HeaderIsSafe(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

}  // namespace

absl::StatusOr<std::unique_ptr<CurlHttpClient>> CurlHttpClient::New(CurlHttpClientOptions options) {
  static const CURLcode global = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (global != CURLE_OK) return absl::InternalError("libcurl initialisation failed");
  if (absl::Status valid = ValidateCurlHttpClientOptions(options); !valid.ok()) return valid;
  return std::unique_ptr<CurlHttpClient>(new CurlHttpClient(std::move(options)));
}

CurlHttpClient::~CurlHttpClient() {
  absl::MutexLock lock(&mu_);
  for (void* h : idle_) FreeTransfer(static_cast<Transfer*>(h));
}

void* CurlHttpClient::TakeHandle() {
  {
    absl::MutexLock lock(&mu_);
    if (!idle_.empty()) {
      void* h = idle_.back();
      idle_.pop_back();
      return h;
    }
  }
  auto* t = new Transfer{curl_easy_init(), curl_multi_init()};
  if (t->easy == nullptr || t->multi == nullptr) {
    FreeTransfer(t);
    return nullptr;
  }
  return t;
}

void CurlHttpClient::ReturnHandle(void* handle) {
  absl::MutexLock lock(&mu_);
  if (idle_.size() < kMaxIdleHandles) {
    idle_.push_back(handle);
  } else {
    FreeTransfer(static_cast<Transfer*>(handle));
  }
}

absl::StatusOr<HttpResponse> CurlHttpClient::Send(const HttpRequest& request, absl::Time deadline) {
  return Perform(request, nullptr, deadline);
}

absl::StatusOr<HttpResponse> CurlHttpClient::SendStreaming(const HttpRequest& request, const HttpBodySink& sink,
                                                           absl::Time deadline) {
  return Perform(request, &sink, deadline);
}

absl::StatusOr<HttpResponse> CurlHttpClient::Perform(const HttpRequest& request, const HttpBodySink* stream,
                                                     absl::Time deadline) {
  if (request.method != "GET" && request.method != "POST") {
    return absl::InvalidArgumentError("HTTP method must be GET or POST");
  }
  if (!request.url.starts_with("http://") && !request.url.starts_with("https://")) {
    return absl::InvalidArgumentError("URL must start with http:// or https://");
  }
  absl::Duration remaining = deadline - absl::Now();
  if (remaining <= absl::ZeroDuration())
    return absl::DeadlineExceededError("deadline exceeded before the HTTP request");
  bool deadline_bound = stream != nullptr || remaining < options_.request_timeout;
  absl::Duration timeout = stream != nullptr ? remaining : std::min(remaining, options_.request_timeout);

  auto* transfer = static_cast<Transfer*>(TakeHandle());
  if (transfer == nullptr) return absl::InternalError("curl_easy_init failed");
  CURL* curl = transfer->easy;
  curl_easy_reset(curl);  // keeps the connection cache

  std::unique_ptr<curl_slist, SlistDeleter> headers;
  size_t header_bytes = 0;
  auto append = [&](std::string_view name, std::string_view value) -> absl::Status {
    if (!HeaderIsSafe(name) || !HeaderIsSafe(value)) {
      return absl::InvalidArgumentError("HTTP header contains a line break");
    }
    // The line is assembled in the zeroizing type: it may hold a credential. libcurl's copy is
    // wiped by SlistDeleter.
    SecretBytes line = SecretBytes::FromString(name);
    line.Append(": ");
    line.Append(value);
    line.push_back('\0');
    header_bytes += line.size() + 1;  // "\r\n" on the wire instead of the terminator
    curl_slist* appended = curl_slist_append(headers.get(), reinterpret_cast<const char*>(line.Reveal().data()));
    if (appended == nullptr) return absl::InternalError("curl_slist_append failed");
    headers.release();
    headers.reset(appended);
    return absl::OkStatus();
  };
  absl::Status header_status;
  for (const auto& [name, value] : request.headers) {
    if (header_status.ok()) header_status = append(name, value);
  }
  for (const SecretHeader& h : request.secret_headers) {
    if (header_status.ok()) header_status = append(h.name, h.value.RevealString());
  }
  if (header_status.ok() && header_bytes > options_.max_request_header_bytes) {
    header_status = absl::ResourceExhaustedError(
        StrCat(request.method, " ", request.url.substr(0, request.url.find('?')), ": request headers of ", header_bytes,
               " bytes exceed the limit of ", options_.max_request_header_bytes, " bytes"));
  }
  if (!header_status.ok()) {
    ReturnHandle(transfer);
    return header_status;
  }
  // No "Expect: 100-continue" round trip for POST bodies.
  headers.reset(curl_slist_append(headers.release(), "Expect:"));

  HttpResponse response;
  Sink sink{&response, options_.max_response_bytes, 0, false, nullptr, nullptr, absl::OkStatus()};
  sink.stream = stream;
  sink.curl = curl;
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(curl, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(std::min(options_.connect_timeout, timeout))));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, std::max(1L, static_cast<long>(absl::ToInt64Milliseconds(timeout))));
  if (stream == nullptr) {
    curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(options_.max_response_bytes));
  } else {
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME,
                     std::max(1L, static_cast<long>(absl::ToInt64Seconds(options_.stall_timeout))));
  }
  if (options_.explicit_proxies) {
    const std::string& proxy = request.url.starts_with("https://") ? options_.https_proxy : options_.http_proxy;
    curl_easy_setopt(curl, CURLOPT_PROXY, proxy.c_str());  // "" disables proxies, environment included
    curl_easy_setopt(curl, CURLOPT_NOPROXY, options_.no_proxy.empty() ? nullptr : options_.no_proxy.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &sink);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!options_.ca_pem.empty()) {
    curl_blob blob{const_cast<char*>(options_.ca_pem.data()), options_.ca_pem.size(), CURL_BLOB_COPY};
    curl_easy_setopt(curl, CURLOPT_CAINFO_BLOB, &blob);
    curl_easy_setopt(curl, CURLOPT_CAPATH, nullptr);  // only the configured anchor
  } else if (!options_.extra_ca_pem.empty()) {
    // CAINFO (the system bundle) stays set: libcurl's OpenSSL backend loads both.
    curl_blob blob{const_cast<char*>(options_.extra_ca_pem.data()), options_.extra_ca_pem.size(), CURL_BLOB_COPY};
    curl_easy_setopt(curl, CURLOPT_CAINFO_BLOB, &blob);
  }
  if (request.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  } else {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  }

  CURLcode rc = RunTransfer(*transfer, request.cancellation.get());
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  // Only a complete, clean exchange leaves a connection fit for the next request: after an error
  // status the server may not have read our body (a 413 sent early) or may close the connection
  // whenever it likes, and after a transport failure its state is unknown. Cleaning the handle
  // closes its connections.
  if (rc == CURLE_OK && status >= 200 && status <= 399) {
    ReturnHandle(transfer);
  } else {
    FreeTransfer(transfer);
  }
  std::string what = StrCat(request.method, " ", request.url.substr(0, request.url.find('?')));
  switch (rc) {
    case CURLE_OK:
      response.status = static_cast<int>(status);
      return response;
    case CURLE_WRITE_ERROR:
      if (!sink.stream_status.ok()) return sink.stream_status;
      [[fallthrough]];
    case CURLE_FILESIZE_EXCEEDED:
      if (sink.body_too_large || rc == CURLE_FILESIZE_EXCEEDED) {
        return absl::ResourceExhaustedError(
            StrCat(what, ": response body exceeds ", options_.max_response_bytes, " bytes"));
      }
      return absl::UnavailableError(StrCat(what, ": response headers too large"));
    case CURLE_OPERATION_TIMEDOUT:
      if (deadline_bound && (stream == nullptr || absl::Now() + absl::Milliseconds(50) >= deadline))
        return absl::DeadlineExceededError(StrCat(what, ": deadline exceeded"));
      return absl::UnavailableError(StrCat(what, ": timed out after ", absl::FormatDuration(timeout)));
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
      return absl::FailedPreconditionError(
          StrCat(what, ": TLS verification of the server failed (", curl_easy_strerror(rc),
                 "); check the trust anchor and that the URL host matches the certificate"));
    case CURLE_ABORTED_BY_CALLBACK:
      return absl::CancelledError(StrCat(what, ": abandoned, the caller departed"));
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return absl::InvalidArgumentError(StrCat(what, ": ", curl_easy_strerror(rc)));
    default:
      return absl::UnavailableError(StrCat(what, ": ", curl_easy_strerror(rc)));
  }
}

}  // namespace cdh::http
