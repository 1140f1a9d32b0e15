// The module cdh-curl.so: libcurl for the daemon, loaded on first use by http/curl_deferred.cc.
// It carries its own copy of the HTTP client and what it needs (http/CMakeLists.txt) and binds
// its calls to that copy (-Bsymbolic-functions), so NewHttpClient here is the one of
// http/curl_factory.cc, not the daemon's deferring one.
#include <type_traits>

#include "http/curl_http_client.h"

extern "C" {

__attribute__((visibility("default"))) void cdh_curl_new_client(
    cdh::http::CurlHttpClientOptions* options, absl::StatusOr<std::unique_ptr<cdh::http::HttpClient>>* out) {
  *out = cdh::http::NewHttpClient(std::move(*options));
}

__attribute__((visibility("default"))) void cdh_curl_check_url(std::string_view url,
                                                               const std::initializer_list<std::string_view>* schemes,
                                                               std::string_view what, absl::Status* out) {
  *out = cdh::http::CheckHttpUrl(url, *schemes, what);
}

}  // extern "C"

// The entry points' types must match what the loader casts them to.
static_assert(std::is_same_v<decltype(&cdh_curl_new_client), cdh::http::CurlModuleNewClient>);
static_assert(std::is_same_v<decltype(&cdh_curl_check_url), cdh::http::CurlModuleCheckUrl>);
