#include "kbs-client/kbs_client.h"

#include <algorithm>
#include <chrono>

#include "absl/time/clock.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "http/curl_http_client.h"
#include "kbs-client/jwe.h"
#include "kbs-client/kbs_protocol.h"

namespace cdh::kbs {

struct KbsClient::Session {
  SecretBytes cookie;  // value of kbs-session-id
  SecretBytes token;   // the attestation token (JWT)
  TeeKey key;
  absl::Time created;
  absl::Time refresh_at;  // InfinitePast: never cache
};

namespace {

constexpr size_t kMaxEchoedText = 200;

// Broker text for an error message: printable ASCII only, bounded.
std::string Sanitize(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, kMaxEchoedText)) out.push_back(c >= 0x20 && c < 0x7f ? c : ' ');
  if (text.size() > kMaxEchoedText) out.append("...");
  return out;
}

std::string DescribeError(const http::HttpResponse& r) {
  if (auto p = ParseProblem(r.body)) return StrCat(p->type, ": ", Sanitize(p->detail));
  return r.body.empty() ? std::string("(empty body)") : Sanitize(r.body);
}

// Status for a non-200 answer that the caller has no special meaning for.
absl::Status UnexpectedStatus(std::string_view what, const http::HttpResponse& r) {
  std::string msg = StrCat(what, ": KBS answered HTTP ", r.status, " (", DescribeError(r), ")");
  if (r.status >= 500) return absl::UnavailableError(msg);
  return absl::FailedPreconditionError(msg);
}

std::optional<SecretBytes> SessionCookie(const http::HttpResponse& r) {
  std::string prefix = StrCat(kSessionCookieName, "=");
  for (std::string& v : r.HeaderValues("set-cookie")) {
    if (!v.starts_with(prefix)) continue;
    std::string value =
        v.substr(prefix.size(), v.find(';') == std::string::npos ? std::string::npos : v.find(';') - prefix.size());
    if (value.empty()) continue;
    return SecretBytes::TakeString(value);
  }
  return std::nullopt;
}

bool ValidPlugin(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

bool ValidPath(std::string_view path) {
  if (path.empty()) return false;
  for (std::string_view seg : StrSplit(path, '/')) {
    if (seg.empty() || seg == "." || seg == "..") return false;
    for (char c : seg) {
      bool ok = std::isalnum(static_cast<unsigned char>(c)) ||
                std::string_view("-._~!$&'()*+,;=:@%").find(c) != std::string_view::npos;
      if (!ok) return false;
    }
  }
  return true;
}

bool ValidQuery(std::string_view q) {
  return std::all_of(q.begin(), q.end(), [](char c) { return c > 0x20 && c < 0x7f && c != '#'; });
}

std::string StripSlash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

}  // namespace

absl::StatusOr<std::unique_ptr<KbsClient>> KbsClient::New(KbsClientOptions options,
                                                          std::unique_ptr<http::HttpClient> http,
                                                          std::unique_ptr<attestation::Attester> attester) {
  options.url = StripSlash(options.url);
  if (!options.url.starts_with("http://") && !options.url.starts_with("https://")) {
    return absl::InvalidArgumentError("KBS URL must start with http:// or https://");
  }
  if (options.url.find_first_of("?# \t\r\n") != std::string::npos) {
    return absl::InvalidArgumentError("KBS URL must not contain a query, fragment or whitespace");
  }
  if (options.max_attempts < 1 || options.max_transport_tries < 1) {
    return absl::InvalidArgumentError("KBS client: max_attempts and max_transport_tries must be at least 1");
  }
  if (options.call_budget <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("KBS client: call_budget must be positive");
  }
  if (!http || !attester) return absl::InvalidArgumentError("KBS client needs an HTTP client and an attester");
  return std::unique_ptr<KbsClient>(new KbsClient(std::move(options), std::move(http), std::move(attester)));
}

KbsClient::KbsClient(KbsClientOptions options, std::unique_ptr<http::HttpClient> http,
                     std::unique_ptr<attestation::Attester> attester)
    : options_(std::move(options)), http_(std::move(http)), attester_(std::move(attester)) {}

KbsClient::Stats KbsClient::stats() const {
  return Stats{handshakes_.load(), resource_requests_.load(), http_requests_.load()};
}

absl::StatusOr<http::HttpResponse> KbsClient::Exchange(const http::HttpRequest& request, const CallContext& ctx) {
  std::string what = StrCat(request.method, " ", request.url.substr(options_.url.size()));
  absl::Duration backoff = options_.initial_backoff;
  absl::Status last;
  for (int attempt = 1; attempt <= options_.max_transport_tries; ++attempt) {
    http_requests_.fetch_add(1);
    auto r = http_->Send(request, ctx.deadline);
    if (r.ok() && r->status < 500) return r;
    if (!r.ok() && r.status().code() == absl::StatusCode::kFailedPrecondition) {
      return Annotate(r.status(), "KBS (TLS: check kbc.kbs_cert)");  // only TLS failures carry this code
    }
    if (!r.ok() && r.status().code() != absl::StatusCode::kUnavailable) return Annotate(r.status(), "KBS");
    last = r.ok() ? UnexpectedStatus(what, *r) : Annotate(r.status(), "KBS unreachable");
    if (attempt == options_.max_transport_tries || absl::Now() + backoff >= ctx.deadline) break;
    absl::SleepFor(backoff);
    backoff *= 2;
  }
  return last;
}

absl::StatusOr<std::shared_ptr<const KbsClient::Session>> KbsClient::Handshake(const CallContext& ctx) {
  CDH_ASSIGN_OR_RETURN(TeeKey key, TeeKey::Generate(options_.key_algorithm));

  // 1. /auth -> challenge and session cookie (§1.1).
  http::HttpRequest auth{"POST",
                         StrCat(options_.url, kApiPrefix, "/auth"),
                         {{"Content-Type", "application/json"}},
                         BuildAuthRequest(attester_->tee())};
  CDH_ASSIGN_OR_RETURN(http::HttpResponse auth_resp, Exchange(auth, ctx));
  if (auth_resp.status == 401) {
    std::string why = DescribeError(auth_resp);
    if (why.find("Version Mismatch") != std::string::npos || why.find("version mismatch") != std::string::npos) {
      return absl::FailedPreconditionError(
          StrCat("KBS protocol version mismatch (client ", kProtocolVersion, "): ", why));
    }
    return absl::UnauthenticatedError(StrCat("KBS refused /auth for TEE `", attester_->tee(), "`: ", why));
  }
  if (auth_resp.status != 200) return UnexpectedStatus("POST /kbs/v0/auth", auth_resp);
  auto challenge = ParseChallenge(auth_resp.body);
  if (!challenge.ok()) {
    if (challenge.status().code() == absl::StatusCode::kUnimplemented) return challenge.status();
    return absl::UnavailableError(
        StrCat("KBS /auth answer is not a challenge (is kbc.url a KBS?): ", ToStd(challenge.status().message())));
  }
  std::optional<SecretBytes> cookie = SessionCookie(auth_resp);
  if (!cookie) return absl::UnavailableError("KBS /auth answer has no kbs-session-id cookie");

  // 2. Report data binds the nonce and the TEE public key (§2).
  nlohmann::json jwk = key.PublicJwk();
  CDH_ASSIGN_OR_RETURN(std::string report_data, RuntimeDataDigest(challenge->hash, challenge->nonce, jwk, ""));
  auto evidence = attester_->GetEvidence(report_data, ctx);
  if (!evidence.ok()) {
    // A missing TEE device or key is a problem of this guest, not a missing resource: NOT_FOUND
    // (and INVALID_ARGUMENT) from the attester must not reach the caller as if the resource, or
    // the caller's request, were at fault.
    absl::Status st = evidence.status();
    if (absl::IsNotFound(st) || absl::IsInvalidArgument(st)) {
      st = absl::FailedPreconditionError(std::string(ToStd(st.message())));
    }
    return Annotate(st, StrCat("attester `", attester_->tee(), "`"));
  }

  // 3. /attest -> token (§1.2).
  AttestRequest attest_req{challenge->nonce, jwk, *evidence, "", options_.init_data};
  std::string cookie_header = StrCat(kSessionCookieName, "=", cookie->RevealString());
  http::HttpRequest attest{"POST",
                           StrCat(options_.url, kApiPrefix, "/attest"),
                           {{"Content-Type", "application/json"}, {"Cookie", cookie_header}},
                           BuildAttestRequest(attest_req)};
  SecretBytes::WipeForeign(cookie_header);
  auto attest_resp = Exchange(attest, ctx);
  SecretBytes::WipeForeign(attest.headers[1].second);  // the request's copy, handed to libcurl
  if (!attest_resp.ok()) return attest_resp.status();
  if (attest_resp->status == 401) {
    return absl::UnauthenticatedError(StrCat("attestation refused by the KBS (", DescribeError(*attest_resp), ")"));
  }
  if (attest_resp->status != 200) return UnexpectedStatus("POST /kbs/v0/attest", *attest_resp);
  absl::StatusOr<SecretBytes> token = ParseAttestResponse(attest_resp->body);
  SecretBytes::WipeForeign(attest_resp->body);  // the transport's copy of the token
  if (!token.ok()) return absl::UnavailableError(StrCat("KBS /attest answer: ", ToStd(token.status().message())));
  auto claims = ParseTokenClaims(token->RevealString());
  if (!claims.ok()) {
    return absl::UnavailableError(StrCat("KBS attestation token: ", ToStd(claims.status().message())));
  }

  // 4. When to refresh (§4.2): before exp, with a leeway for clock skew.
  absl::Time now = options_.clock();
  absl::Time refresh_at = absl::InfiniteFuture();
  if (claims->exp) {
    absl::Time exp = absl::FromUnixSeconds(*claims->exp);
    absl::Duration lifetime = exp - now;
    if (lifetime <= absl::ZeroDuration()) {
      refresh_at = absl::InfinitePast();  // already expired on arrival: use once, never cache
    } else {
      refresh_at = exp - std::min(options_.refresh_leeway, lifetime / 4);
    }
  }
  handshakes_.fetch_add(1);
  if (options_.on_handshake) {
    options_.on_handshake(claims->exp ? absl::FromUnixSeconds(*claims->exp) : absl::InfiniteFuture());
  }
  auto session =
      std::make_shared<Session>(Session{std::move(*cookie), std::move(*token), std::move(key), now, refresh_at});
  return std::shared_ptr<const Session>(std::move(session));
}

absl::StatusOr<std::shared_ptr<const KbsClient::Session>> KbsClient::AcquireSession(const Session* stale,
                                                                                    const CallContext& ctx) {
  if (options_.reattest_every_call_for_test) return Handshake(ctx);
  {
    absl::MutexLock lock(&mu_);
    // Single flight: one handshake at a time; whoever waited re-checks the cache first.
    auto can_go_on = [this, stale]() {
      mu_.AssertReaderHeld();  // evaluated by absl::Mutex with mu_ held
      return !handshaking_ || CachedSessionLocked(stale) != nullptr;
    };
    if (!mu_.AwaitWithDeadline(absl::Condition(&can_go_on), ctx.deadline)) {
      return absl::DeadlineExceededError("deadline exceeded while waiting for the KBS handshake");
    }
    if (std::shared_ptr<const Session> cached = CachedSessionLocked(stale)) return cached;
    handshaking_ = true;
  }
  absl::StatusOr<std::shared_ptr<const Session>> fresh = Handshake(ctx);
  absl::MutexLock lock(&mu_);
  handshaking_ = false;
  if (fresh.ok() && (*fresh)->refresh_at > (*fresh)->created) session_ = *fresh;
  return fresh;
}

std::shared_ptr<const KbsClient::Session> KbsClient::CachedSessionLocked(const Session* stale) const {
  if (session_ && session_.get() != stale && options_.clock() < session_->refresh_at) return session_;
  return nullptr;
}

void KbsClient::Invalidate(const Session* session) {
  absl::MutexLock lock(&mu_);
  if (session_.get() == session) session_.reset();
}

absl::Status KbsClient::Attest(const CallContext& caller) {
  CallContext ctx{std::min(caller.deadline, absl::Now() + options_.call_budget)};
  return AcquireSession(nullptr, ctx).status();
}

absl::StatusOr<SecretBytes> KbsClient::Token(const CallContext& caller) {
  CallContext ctx{std::min(caller.deadline, absl::Now() + options_.call_budget)};
  absl::StatusOr<std::shared_ptr<const Session>> session = AcquireSession(nullptr, ctx);
  if (!session.ok()) return session.status();
  return (*session)->token.Clone();
}

absl::StatusOr<SecretBytes> KbsClient::GetResource(std::string_view plugin, std::string_view path,
                                                   std::optional<std::string_view> query, const CallContext& caller) {
  CallContext ctx{std::min(caller.deadline, absl::Now() + options_.call_budget)};
  if (!ValidPlugin(plugin)) return absl::InvalidArgumentError("KBS plugin name is malformed");
  if (!ValidPath(path)) return absl::InvalidArgumentError("KBS resource path is malformed");
  if (query && !ValidQuery(*query)) return absl::InvalidArgumentError("KBS resource query is malformed");
  std::string rel = StrCat(kApiPrefix, "/", plugin, "/", path);
  std::string url = StrCat(options_.url, rel, query ? StrCat("?", *query) : std::string());
  absl::Time call_start = options_.clock();

  std::shared_ptr<const Session> session;
  std::shared_ptr<const Session> stale;  // kept alive so its address cannot be reused meanwhile
  std::string last_refusal;
  bool denied = false;
  for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
    if (!session) {
      CDH_ASSIGN_OR_RETURN(session, AcquireSession(stale.get(), ctx));
    }
    bool fresh = session->created >= call_start;
    std::string cookie = StrCat(kSessionCookieName, "=", session->cookie.RevealString());
    std::string bearer = StrCat("Bearer ", session->token.RevealString());
    http::HttpRequest get{"GET", url, {{"Cookie", cookie}, {"Authorization", bearer}}, ""};
    SecretBytes::WipeForeign(cookie);
    SecretBytes::WipeForeign(bearer);
    resource_requests_.fetch_add(1);
    auto resp = Exchange(get, ctx);
    for (auto& [name, value] : get.headers) SecretBytes::WipeForeign(value);  // handed to libcurl
    if (!resp.ok()) return resp.status();

    if (resp->status == 200) {
      auto plaintext = DecryptJwe(resp->body, session->key);
      if (!plaintext.ok()) return Annotate(plaintext.status(), StrCat("KBS resource ", rel));
      return plaintext;
    }
    if (resp->status == 404) {
      return absl::NotFoundError(StrCat("KBS resource ", rel, " not found (", DescribeError(*resp), ")"));
    }
    if (resp->status != 401) return UnexpectedStatus(StrCat("GET ", rel), *resp);

    std::optional<Problem> problem = ParseProblem(resp->body);
    std::string type = problem ? problem->type : std::string();
    last_refusal = DescribeError(*resp);
    denied = type == "PolicyDeny";
    if (fresh && denied) {
      return absl::PermissionDeniedError(StrCat("KBS resource ", rel, ": denied by the KBS resource policy"));
    }
    // Trustee reaches these only after the token verified and the policy allowed the request
    // (kbs-protocol.md §1.3 steps 6-7): a new token cannot change the answer.
    if (type == "PluginInternalError") {
      return absl::NotFoundError(
          StrCat("KBS resource ", rel, " not found or unreadable on the KBS (PluginInternalError)"));
    }
    if (type == "JweError") {
      return absl::FailedPreconditionError(
          StrCat("KBS resource ", rel, ": the KBS cannot encrypt to the TEE key (JweError)"));
    }
    // The token was refused (expired, revoked, unknown) or may carry stale claims: re-attest.
    stale = std::move(session);
    Invalidate(stale.get());
  }
  if (denied) {
    return absl::PermissionDeniedError(StrCat("KBS resource ", rel, ": denied by the KBS resource policy"));
  }
  return absl::UnauthenticatedError(StrCat("KBS resource ", rel, ": request unauthorized after ", options_.max_attempts,
                                           " attempts (", last_refusal, ")"));
}

absl::StatusOr<std::unique_ptr<KbsClient>> NewCurlKbsClient(const KbsConnectionConfig& connection,
                                                            KbsClientOptions options,
                                                            std::unique_ptr<attestation::Attester> attester) {
  if (!connection.kbs_cert_pem.empty() && connection.url.starts_with("http://")) {
    return absl::InvalidArgumentError(
        "kbc.kbs_cert is set but kbc.url is http://: the certificate would not be used; use https:// or drop kbs_cert");
  }
  http::CurlHttpClientOptions http_options;
  http_options.ca_pem = connection.kbs_cert_pem;
  http_options.request_timeout = connection.request_timeout;
  http_options.max_response_bytes = connection.max_response_bytes;
  auto http = http::CurlHttpClient::New(std::move(http_options));
  if (!http.ok()) return Annotate(http.status(), "kbc.kbs_cert");
  options.url = connection.url;
  return KbsClient::New(std::move(options), std::move(http).value(), std::move(attester));
}

}  // namespace cdh::kbs
