#include "attestation/imds_client.h"

#include <httplib.h>

#include "common/base64.h"
#include "common/json.h"
#include "common/strings.h"

namespace cdh::attestation {
namespace {

constexpr size_t kMaxResponse = 1 << 20;

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

void SetTimeouts(httplib::Client& c, const CallContext& ctx) {
  absl::Duration d = ctx.deadline == absl::InfiniteFuture() ? absl::Seconds(30) : ctx.Remaining();
  if (d < absl::Milliseconds(1)) d = absl::Milliseconds(1);
  int64_t us = absl::ToInt64Microseconds(d);
  c.set_connection_timeout(us / 1000000, us % 1000000);
  c.set_read_timeout(us / 1000000, us % 1000000);
  c.set_write_timeout(us / 1000000, us % 1000000);
}

}  // namespace

absl::StatusOr<std::unique_ptr<HttpImdsClient>> HttpImdsClient::New(std::string base_url) {
  constexpr std::string_view kScheme = "http://";
  if (base_url.rfind(kScheme, 0) != 0) {
    return absl::InvalidArgumentError(StrCat("IMDS URL `", base_url, "` must start with http://"));
  }
  std::string hostport = base_url.substr(kScheme.size());
  while (!hostport.empty() && hostport.back() == '/') hostport.pop_back();
  int port = 80;
  size_t colon = hostport.rfind(':');
  if (colon != std::string::npos) {
    std::string p = hostport.substr(colon + 1);
    if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos) {
      return absl::InvalidArgumentError(StrCat("IMDS URL `", base_url, "` has a bad port"));
    }
    port = std::stoi(p);
    hostport.resize(colon);
  }
  if (hostport.empty() || hostport.find('/') != std::string::npos) {
    return absl::InvalidArgumentError(StrCat("IMDS URL `", base_url, "` must be http://host[:port]"));
  }
  return std::unique_ptr<HttpImdsClient>(new HttpImdsClient(hostport, port));
}

absl::StatusOr<std::string> HttpImdsClient::GetTdQuote(std::string_view td_report, const CallContext& ctx) {
  httplib::Client client(host_, port_);
  SetTimeouts(client, ctx);
  httplib::Headers headers = {{"Metadata", "true"}};
  std::string encoded = Base64StdEncode(td_report);
  std::string url = StrCat("http://", host_, ":", port_, "/acc/tdquote");
  for (int attempt = 0; attempt < 2; ++attempt) {
    nlohmann::json body = {{"report", attempt == 0 ? encoded : UrlSafe(encoded)}};
    auto res = client.Post("/acc/tdquote", headers, body.dump(), "application/json");
    if (!res) {
      if (ctx.Expired()) return absl::DeadlineExceededError(StrCat("POST ", url, ": deadline exceeded"));
      return absl::UnavailableError(StrCat("POST ", url, ": ", httplib::to_string(res.error())));
    }
    if (res->status < 200 || res->status >= 300) {
      if (attempt == 0) continue;
      return absl::UnavailableError(StrCat("POST ", url, ": HTTP ", res->status));
    }
    if (res->body.size() > kMaxResponse) return absl::InvalidArgumentError(StrCat("POST ", url, ": response too large"));
    absl::StatusOr<nlohmann::json> j = ParseJson(res->body, "IMDS TD quote response");
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
  httplib::Client client(host_, port_);
  SetTimeouts(client, ctx);
  std::string url = StrCat("http://", host_, ":", port_, "/metadata/THIM/amd/certification");
  auto res = client.Get("/metadata/THIM/amd/certification", {{"Metadata", "true"}});
  if (!res) {
    if (ctx.Expired()) return absl::DeadlineExceededError(StrCat("GET ", url, ": deadline exceeded"));
    return absl::UnavailableError(StrCat("GET ", url, ": ", httplib::to_string(res.error())));
  }
  if (res->status < 200 || res->status >= 300) return absl::UnavailableError(StrCat("GET ", url, ": HTTP ", res->status));
  if (res->body.size() > kMaxResponse) return absl::InvalidArgumentError(StrCat("GET ", url, ": response too large"));
  absl::StatusOr<nlohmann::json> j = ParseJson(res->body, "IMDS certification response");
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
