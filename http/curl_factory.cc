// NewHttpClient and CheckHttpUrl (http/curl_http_client.h) in every binary but the daemon: libcurl
// linked in. The daemon links http/curl_deferred.cc instead, and its module cdh-curl.so runs
// these (http/curl_module.cc).
#include <optional>

#include <curl/curl.h>

#include "common/strings.h"
#include "http/curl_http_client.h"

namespace cdh::http {

absl::StatusOr<std::unique_ptr<HttpClient>> NewHttpClient(CurlHttpClientOptions options) {
  absl::StatusOr<std::unique_ptr<CurlHttpClient>> client = CurlHttpClient::New(std::move(options));
  if (!client.ok()) return client.status();
  return std::unique_ptr<HttpClient>(std::move(client).value());
}

absl::Status CheckHttpUrl(std::string_view url, std::initializer_list<std::string_view> schemes,
                          std::string_view what) {
  auto invalid = [&](std::string_view why) {
    return absl::InvalidArgumentError(StrCat(what, " `", Sanitize(url, 96), "` ", why));
  };
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> parsed(curl_url(), curl_url_cleanup);
  if (parsed == nullptr) return absl::InternalError("curl_url failed");
  std::string text(url);
  if (curl_url_set(parsed.get(), CURLUPART_URL, text.c_str(), 0) != CURLUE_OK) {
    return invalid("is not a valid absolute URL");
  }
  auto part = [&](CURLUPart which) -> std::optional<std::string> {
    char* value = nullptr;
    if (curl_url_get(parsed.get(), which, &value, 0) != CURLUE_OK || value == nullptr) return std::nullopt;
    std::string out(value);
    curl_free(value);
    return out;
  };
  std::optional<std::string> scheme = part(CURLUPART_SCHEME);
  bool allowed = false;
  for (std::string_view s : schemes) allowed |= scheme.has_value() && AsciiToLower(*scheme) == s;
  if (!allowed) {
    std::string list;
    for (std::string_view s : schemes) list += StrCat(list.empty() ? "" : " or ", s, "://");
    return invalid(StrCat("must start with ", list));
  }
  std::optional<std::string> host = part(CURLUPART_HOST);
  if (!host.has_value() || host->empty()) return invalid("has no host");
  if (part(CURLUPART_USER).has_value()) return invalid("must not carry user info");
  return absl::OkStatus();
}

}  // namespace cdh::http
