#include "attestation/imds_client.h"

#include "common/base64.h"
#include "common/json.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "http/curl_http_client.h"

namespace cdh::attestation {
namespace {

std::string UrlSafe(std::string b64) {
  for (char& c : b64) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  while (!b64.empty() && b64.back() == '=') b64.pop_back();
  return b64;
}

absl::StatusOr<std::string> DecodeEither(const std::string& text) {
  absl::StatusOr<std::string> std_b64 = Base64StdDecode(text);
  if (std_b64.ok()) return std_b64;
  std::string t = text;
  while (!t.empty() && t.back() == '=') t.pop_back();
  return Base64UrlDecode(t);
}

}  // namespace

absl::StatusOr<std::unique_ptr<HttpImdsClient>> HttpImdsClient::New(std::string base_url) {
  http::CurlHttpClientOptions options;
  options.request_timeout = absl::Seconds(30);
  options.max_response_bytes = kMaxResponseBytes;
  options.explicit_proxies = true;  // and none configured: IMDS is never reached through a proxy
  options.user_agent = "cdh-imds-client/0.1";
  CDH_ASSIGN_OR_RETURN(std::unique_ptr<http::HttpClient> http, http::NewHttpClient(std::move(options)));
  return New(std::move(base_url), std::move(http));
}

absl::StatusOr<std::unique_ptr<HttpImdsClient>> HttpImdsClient::New(std::string base_url,
                                                                    std::unique_ptr<http::HttpClient> http) {
  CDH_RETURN_IF_ERROR(http::CheckHttpUrl(base_url, {"http"}, "IMDS URL"));
  while (base_url.ends_with('/')) base_url.pop_back();
  return std::unique_ptr<HttpImdsClient>(new HttpImdsClient(std::move(base_url), std::move(http)));
}

absl::StatusOr<http::HttpResponse> HttpImdsClient::Exchange(http::HttpRequest request, const CallContext& ctx) {
  request.headers.emplace_back("Metadata", "true");
  request.cancellation = ctx.cancellation;
  absl::StatusOr<http::HttpResponse> response = http_->Send(request, ctx.deadline);
  if (!response.ok() && response.status().code() == absl::StatusCode::kResourceExhausted) {
    return absl::InvalidArgumentError(StrCat(request.method, " ", request.url, ": response too large"));
  }
  return response;
}

absl::StatusOr<std::string> HttpImdsClient::GetTdQuote(std::string_view td_report, const CallContext& ctx) {
  std::string encoded = Base64StdEncode(td_report);
  std::string url = StrCat(base_url_, "/acc/tdquote");
  for (int attempt = 0; attempt < 2; ++attempt) {
    nlohmann::json body = {{"report", attempt == 0 ? encoded : UrlSafe(encoded)}};
    CDH_ASSIGN_OR_RETURN(http::HttpResponse res,
                         Exchange({"POST", url, {{"Content-Type", "application/json"}}, body.dump()}, ctx));
    if (res.status < 200 || res.status >= 300) {
      if (attempt == 0) continue;
      return absl::UnavailableError(StrCat("POST ", url, ": HTTP ", res.status));
    }
    absl::StatusOr<nlohmann::json> j = ParseJson(res.body, "IMDS TD quote response");
    if (!j.ok()) return j.status();
    absl::StatusOr<std::string> quote = GetString(*j, "quote", "IMDS TD quote response");
    if (!quote.ok()) return quote.status();
    absl::StatusOr<std::string> raw = DecodeEither(*quote);
    if (!raw.ok()) return absl::InvalidArgumentError(StrCat("POST ", url, ": `quote` is not base64"));
    return raw;
  }
  return absl::UnavailableError(StrCat("POST ", url, ": no 2xx answer"));
}

absl::StatusOr<std::string> HttpImdsClient::GetVcekDer(const CallContext& ctx) {
  std::string url = StrCat(base_url_, "/metadata/THIM/amd/certification");
  CDH_ASSIGN_OR_RETURN(http::HttpResponse res, Exchange({"GET", url, {}, ""}, ctx));
  if (res.status < 200 || res.status >= 300) return absl::UnavailableError(StrCat("GET ", url, ": HTTP ", res.status));
  absl::StatusOr<nlohmann::json> j = ParseJson(res.body, "IMDS certification response");
  if (!j.ok()) return j.status();
  absl::StatusOr<std::string> pem = GetString(*j, "vcekCert", "IMDS certification response");
  if (!pem.ok()) return pem.status();
  return PemCertificateToDer(*pem);
}

absl::StatusOr<std::string> PemCertificateToDer(std::string_view pem) {
  constexpr std::string_view kBegin = "-----BEGIN CERTIFICATE-----";
  constexpr std::string_view kEnd = "-----END CERTIFICATE-----";
  size_t b = pem.find(kBegin);
  if (b == std::string_view::npos) return absl::InvalidArgumentError("no PEM CERTIFICATE block");
  size_t e = pem.find(kEnd, b);
  if (e == std::string_view::npos) return absl::InvalidArgumentError("unterminated PEM CERTIFICATE block");
  std::string b64;
  for (char c : pem.substr(b + kBegin.size(), e - b - kBegin.size())) {
    if (c != '\n' && c != '\r' && c != ' ' && c != '\t') b64.push_back(c);
  }
  absl::StatusOr<std::string> der = Base64StdDecode(b64);
  if (!der.ok()) return absl::InvalidArgumentError("PEM CERTIFICATE body is not base64");
  return der;
}

}  // namespace cdh::attestation
