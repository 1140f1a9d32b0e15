#include "image/oci_registry_client.h"

#include <algorithm>

#include "absl/time/clock.h"
#include "common/base64.h"
#include "common/json.h"
#include "common/module_loader.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "image/manifest.h"

namespace cdh::image {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

constexpr int kMaxRedirects = 10;
constexpr int64_t kMaxTokenResponseBytes = 1 << 20;
constexpr absl::Duration kDefaultTokenLifetime = absl::Seconds(60);
constexpr absl::Duration kTokenLeeway = absl::Seconds(10);

std::string UrlForMessage(std::string_view url) { return Sanitize(url.substr(0, url.find('?')), 200); }

// "scheme://host[:port]" of an absolute URL, lower-cased scheme and host.
std::string OriginOf(std::string_view url) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return "";
  size_t host_end = url.find_first_of("/?#", scheme_end + 3);
  return AsciiToLower(url.substr(0, host_end == std::string_view::npos ? url.size() : host_end));
}

std::string ResolveLocation(std::string_view base, std::string_view location) {
  if (location.find("://") != std::string_view::npos) return std::string(location);
  if (location.starts_with("//")) return StrCat(base.substr(0, base.find("://") + 1), location);
  if (location.starts_with("/")) return StrCat(OriginOf(base), location);
  std::string_view dir = base.substr(0, base.find('?'));
  return StrCat(dir.substr(0, dir.rfind('/') + 1), location);
}

std::string PercentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~' || c == ':' || c == '/' || c == ',') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

struct Challenge {
  std::string scheme;  // lower-case: "bearer", "basic"
  std::map<std::string, std::string> params;
};

// RFC 7235 challenge: scheme, then comma-separated key=value / key="quoted value".
Challenge ParseChallenge(std::string_view header) {
  Challenge c;
  size_t sp = header.find(' ');
  c.scheme = AsciiToLower(header.substr(0, sp));
  if (sp == std::string_view::npos) return c;
  std::string_view rest = header.substr(sp + 1);
  while (!rest.empty()) {
    while (!rest.empty() && (rest.front() == ' ' || rest.front() == ',')) rest.remove_prefix(1);
    size_t eq = rest.find('=');
    if (eq == std::string_view::npos) break;
    std::string key = AsciiToLower(rest.substr(0, eq));
    rest.remove_prefix(eq + 1);
    std::string value;
    if (!rest.empty() && rest.front() == '"') {
      rest.remove_prefix(1);
      while (!rest.empty() && rest.front() != '"') {
        if (rest.front() == '\\' && rest.size() > 1) rest.remove_prefix(1);
        value.push_back(rest.front());
        rest.remove_prefix(1);
      }
      if (!rest.empty()) rest.remove_prefix(1);
    } else {
      size_t comma = rest.find(',');
      value = std::string(rest.substr(0, comma));
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma);
    }
    c.params[key] = value;
  }
  return c;
}

// `exp` of a JWT, when the token is one.
std::optional<absl::Time> JwtExpiry(std::string_view token) {
  size_t a = token.find('.');
  size_t b = a == std::string_view::npos ? a : token.find('.', a + 1);
  if (b == std::string_view::npos) return std::nullopt;
  auto payload = Base64UrlDecode(token.substr(a + 1, b - a - 1));
  if (!payload.ok()) return std::nullopt;
  auto claims = ParseJson(*payload, "token claims");
  if (!claims.ok() || !claims->is_object()) return std::nullopt;
  auto exp = claims->find("exp");
  if (exp == claims->end() || !exp->is_number()) return std::nullopt;
  return absl::FromUnixSeconds(exp->get<int64_t>());
}

// A registry error body {"errors":[{"code":…,"message":…}]}: "CODE: message" of the first one.
std::string RegistryErrorOf(const std::string& body) {
  auto j = ParseJson(body, "registry error");
  if (!j.ok() || !j->is_object()) return "";
  auto errors = j->find("errors");
  if (errors == j->end() || !errors->is_array() || errors->empty()) return "";
  const auto& e = (*errors)[0];
  if (!e.is_object()) return "";
  std::string out;
  if (auto c = e.find("code"); c != e.end() && c->is_string()) out = c->get<std::string>();
  if (auto m = e.find("message"); m != e.end() && m->is_string()) StrAppend(&out, ": ", m->get<std::string>());
  return Sanitize(out, 200);
}

absl::Status StatusForHttp(const http::HttpResponse& r, std::string_view what, std::string_view url) {
  std::string detail = RegistryErrorOf(r.body);
  std::string msg = StrCat(what, ": url ", UrlForMessage(url), " answered HTTP ", r.status,
                           detail.empty() ? "" : StrCat(" (", detail, ")"));
  if (r.status == 404) return absl::NotFoundError(msg);
  if (r.status == 401 || r.status == 403) return absl::PermissionDeniedError(StrCat("Not authorized: ", msg));
  if (r.status == 429 || r.status >= 500) return absl::UnavailableError(msg);
  return absl::InvalidArgumentError(msg);
}

std::optional<std::string> HeaderValue(const http::HttpResponse& r, std::string_view name) {
  auto values = r.HeaderValues(name);
  if (values.empty()) return std::nullopt;
  return values.front();
}

}  // namespace

absl::StatusOr<std::unique_ptr<OciRegistryClient>> OciRegistryClient::New(http::HttpClient& http,
                                                                          OciRegistryClientOptions options) {
  if (options.registry.empty()) return absl::InvalidArgumentError("registry client: empty registry");
  return std::unique_ptr<OciRegistryClient>(new OciRegistryClient(http, std::move(options)));
}

int OciRegistryClient::token_fetches() const {
  absl::MutexLock lock(&mu_);
  return token_fetches_;
}

std::string OciRegistryClient::BaseUrl() const {
  std::string host = options_.registry == "docker.io" ? "index.docker.io" : options_.registry;
  return StrCat(options_.plain_http ? "http://" : "https://", host);
}

SecretBytes OciRegistryClient::BasicAuthorization() const {
  SecretBytes userpass;
  userpass.Append(options_.credentials->username);
  userpass.push_back(':');
  userpass.Append(options_.credentials->password.Reveal());
  std::string encoded = Base64StdEncode(userpass.Reveal());
  SecretBytes value = SecretBytes::FromString("Basic ");
  value.Append(encoded);
  SecretBytes::WipeForeign(encoded);
  return value;
}

std::optional<SecretBytes> OciRegistryClient::CachedAuthorization(const std::string& repository) {
  absl::MutexLock lock(&mu_);
  auto it = tokens_.find(repository);
  if (it == tokens_.end()) return std::nullopt;
  if (absl::Now() >= it->second.expires) {
    tokens_.erase(it);
    return std::nullopt;
  }
  return it->second.authorization.Clone();
}

absl::StatusOr<std::optional<SecretBytes>> OciRegistryClient::Authenticate(const ImageReference& repo,
                                                                           const std::vector<std::string>& challenges,
                                                                           const CallContext& ctx) {
  for (const std::string& header : challenges) {
    Challenge c = ParseChallenge(header);
    if (c.scheme == "basic") {
      if (!options_.credentials) return std::optional<SecretBytes>();
      return std::optional<SecretBytes>(BasicAuthorization());
    }
    if (c.scheme != "bearer") continue;
    auto realm = c.params.find("realm");
    if (realm == c.params.end() || !(realm->second.starts_with("https://") || realm->second.starts_with("http://"))) {
      return absl::PermissionDeniedError(StrCat("Not authorized: registry ", Sanitize(options_.registry),
                                                " sent a Bearer challenge without a usable realm"));
    }
    std::string url = StrCat(realm->second, realm->second.find('?') == std::string::npos ? "?" : "&",
                             "scope=", PercentEncode(StrCat("repository:", repo.repository(), ":pull")));
    if (auto service = c.params.find("service"); service != c.params.end()) {
      StrAppend(&url, "&service=", PercentEncode(service->second));
    }
    http::HttpRequest request{"GET", url, {}, ""};
    request.cancellation = ctx.cancellation;
    if (options_.credentials) request.secret_headers.push_back({"Authorization", BasicAuthorization()});
    CDH_ASSIGN_OR_RETURN(http::HttpResponse response, http_.Send(request, ctx.deadline));
    if (response.status != 200) {
      // Upstream swallows a failed token request and goes on anonymously (spec §3.6 step 5); the
      // retried request's 401 then reports it.
      return std::optional<SecretBytes>();
    }
    if (static_cast<int64_t>(response.body.size()) > kMaxTokenResponseBytes) {
      return absl::UnavailableError("token response too large");
    }
    auto j = ParseJson(response.body, "token response");
    SecretBytes::WipeForeign(response.body);  // the transport's copy of the token
    if (!j.ok() || !j->is_object()) return absl::UnavailableError("token response is not a JSON object");
    SecretBytes token;
    for (const char* key : {"token", "access_token"}) {
      auto t = j->find(key);
      if (t != j->end() && t->is_string() && !t->get_ref<const std::string&>().empty()) {
        token = SecretBytes::TakeString(t->get_ref<std::string&>());  // wipes the JSON library's copy
        break;
      }
    }
    if (token.empty()) return absl::UnavailableError("token response has no token");
    absl::Time expires = absl::Now() + kDefaultTokenLifetime;
    if (auto exp = JwtExpiry(token.RevealString())) expires = *exp - kTokenLeeway;
    SecretBytes bearer = SecretBytes::FromString("Bearer ");
    bearer.Append(token.Reveal());
    SecretBytes authorization = bearer.Clone();
    {
      absl::MutexLock lock(&mu_);
      ++token_fetches_;
      tokens_[repo.repository()] = CachedToken{std::move(bearer), expires};
    }
    return std::optional<SecretBytes>(std::move(authorization));
  }
  return std::optional<SecretBytes>();
}

absl::StatusOr<http::HttpResponse> OciRegistryClient::GetFollowingRedirects(
    const std::string& first_url, const Headers& headers, const std::optional<SecretBytes>& authorization,
    const http::HttpBodySink* sink, const CallContext& ctx) {
  std::string url = first_url;
  const std::string origin = OriginOf(BaseUrl());
  for (int hop = 0; hop <= kMaxRedirects; ++hop) {
    http::HttpRequest request{"GET", url, headers, ""};
    request.cancellation = ctx.cancellation;
    // Credentials go to the registry only, never to another host a redirect names.
    if (authorization && OriginOf(url) == origin) {
      request.secret_headers.push_back({"Authorization", authorization->Clone()});
    }
    absl::StatusOr<http::HttpResponse> response =
        sink != nullptr ? http_.SendStreaming(request, *sink, ctx.deadline) : http_.Send(request, ctx.deadline);
    if (!response.ok()) {
      absl::Status st = response.status();
      if (st.code() == absl::StatusCode::kFailedPrecondition && !IsModuleLoadFailure(st)) {
        return absl::UnavailableError(
            StrCat("TLS verification of ", UrlForMessage(url), " failed; check [image] extra_root_certificates"));
      }
      return st;
    }
    int s = response->status;
    if (s == 301 || s == 302 || s == 303 || s == 307 || s == 308) {
      auto location = HeaderValue(*response, "location");
      if (!location || location->empty()) {
        return absl::UnavailableError(StrCat("redirect without Location from ", UrlForMessage(url)));
      }
      url = ResolveLocation(url, *location);
      if (!url.starts_with("https://") && !url.starts_with("http://")) {
        return absl::UnavailableError("redirect to a non-HTTP location");
      }
      continue;
    }
    return response;
  }
  return absl::UnavailableError(StrCat("more than ", kMaxRedirects, " redirects from ", UrlForMessage(first_url)));
}

absl::StatusOr<http::HttpResponse> OciRegistryClient::Get(const ImageReference& repo, const std::string& path,
                                                          Headers headers, const http::HttpBodySink* sink,
                                                          const CallContext& ctx) {
  std::string url = StrCat(BaseUrl(), "/v2/", repo.repository(), path);
  std::optional<SecretBytes> authorization = CachedAuthorization(repo.repository());
  CDH_ASSIGN_OR_RETURN(http::HttpResponse response, GetFollowingRedirects(url, headers, authorization, sink, ctx));
  if (response.status != 401) return response;
  auto challenges = response.HeaderValues("www-authenticate");
  CDH_ASSIGN_OR_RETURN(std::optional<SecretBytes> fresh, Authenticate(repo, challenges, ctx));
  if (!fresh) return response;
  authorization = std::move(fresh);
  return GetFollowingRedirects(url, headers, authorization, sink, ctx);
}

absl::StatusOr<FetchedManifest> OciRegistryClient::GetManifest(const ImageReference& repo,
                                                               std::string_view tag_or_digest, const CallContext& ctx) {
  std::optional<Digest> by_digest;
  if (tag_or_digest.find(':') != std::string_view::npos) {
    CDH_ASSIGN_OR_RETURN(by_digest, Digest::Parse(tag_or_digest));
  } else {
    // Validate the tag through the reference grammar.
    auto check = ImageReference::Parse(StrCat(repo.Name(), ":", tag_or_digest));
    if (!check.ok()) return absl::InvalidArgumentError(StrCat("malformed tag `", Sanitize(tag_or_digest), "`"));
  }
  std::string path = StrCat("/manifests/", tag_or_digest);
  std::string body;
  http::HttpBodySink sink = [&](std::span<const uint8_t> chunk) -> absl::Status {
    if (static_cast<int64_t>(body.size() + chunk.size()) > kMaxManifestBytes) {
      return absl::ResourceExhaustedError(StrCat("manifest larger than ", kMaxManifestBytes, " bytes"));
    }
    body.append(reinterpret_cast<const char*>(chunk.data()), chunk.size());
    return absl::OkStatus();
  };
  CDH_ASSIGN_OR_RETURN(http::HttpResponse response,
                       Get(repo, path, {{"Accept", media_type::kManifestAccept}}, &sink, ctx));
  std::string url = StrCat(BaseUrl(), "/v2/", repo.repository(), path);
  if (response.status != 200) return StatusForHttp(response, "failed to pull image manifest", url);
  FetchedManifest out;
  out.media_type = HeaderValue(response, "content-type").value_or("");
  if (by_digest) {
    if (!by_digest->Matches(body)) {
      return absl::DataLossError(
          StrCat("Digest error: manifest of ", Sanitize(repo.Name()), " does not match ", by_digest->String()));
    }
    out.digest = *by_digest;
  }
  if (auto header = HeaderValue(response, "docker-content-digest")) {
    auto d = Digest::Parse(*header);
    if (!d.ok() || !d->Matches(body)) {
      return absl::DataLossError(StrCat("Digest error: manifest of ", Sanitize(repo.Name()),
                                        " does not match the registry's Docker-Content-Digest"));
    }
    if (!by_digest) out.digest = *d;
  }
  if (out.digest.empty()) out.digest = Digest::Sha256Of(std::string_view(body));
  out.bytes = std::move(body);
  return out;
}

absl::StatusOr<std::string> OciRegistryClient::GetBlob(const ImageReference& repo, const Digest& digest,
                                                       int64_t max_bytes, const CallContext& ctx) {
  std::string body;
  CDH_RETURN_IF_ERROR(StreamBlob(
      repo, digest, -1,
      [&](std::span<const uint8_t> chunk) -> absl::Status {
        if (static_cast<int64_t>(body.size() + chunk.size()) > max_bytes) {
          return absl::ResourceExhaustedError(StrCat("blob ", digest.String(), " larger than ", max_bytes, " bytes"));
        }
        body.append(reinterpret_cast<const char*>(chunk.data()), chunk.size());
        return absl::OkStatus();
      },
      ctx));
  return body;
}

absl::Status OciRegistryClient::StreamBlob(const ImageReference& repo, const Digest& digest, int64_t expected_size,
                                           const BlobSink& sink, const CallContext& ctx) {
  DigestHasher hasher(digest.algorithm());
  http::HttpBodySink counting = [&](std::span<const uint8_t> chunk) -> absl::Status {
    if (expected_size >= 0 && static_cast<int64_t>(hasher.size() + chunk.size()) > expected_size) {
      return absl::DataLossError(
          StrCat("Digest error: blob ", digest.String(), " is longer than its declared ", expected_size, " bytes"));
    }
    hasher.Update(chunk);
    return sink(chunk);
  };
  std::string path = StrCat("/blobs/", digest.String());
  CDH_ASSIGN_OR_RETURN(http::HttpResponse response, Get(repo, path, {}, &counting, ctx));
  if (response.status != 200) {
    return StatusForHttp(response, "failed to pull blob", StrCat(BaseUrl(), "/v2/", repo.repository(), path));
  }
  if (expected_size >= 0 && static_cast<int64_t>(hasher.size()) != expected_size) {
    return absl::DataLossError(StrCat("Digest error: blob ", digest.String(), " has ", hasher.size(),
                                      " bytes, its descriptor says ", expected_size));
  }
  Digest got = hasher.Finish();
  if (!(got == digest)) {
    return absl::DataLossError(
        StrCat("Digest error: Invalid digest. Expected ", digest.String(), ", got ", got.String()));
  }
  return absl::OkStatus();
}

}  // namespace cdh::image
