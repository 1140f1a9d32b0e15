#include "kbs-client/kbs_client.h"

#include <algorithm>
#include <chrono>

#include "absl/time/clock.h"
#include "common/module_loader.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "http/cookie_jar.h"
#include "http/curl_http_client.h"
#include "kbs-client/jwe.h"
#include "kbs-client/kbs_protocol.h"

namespace cdh::kbs {

// One handshake and everyone who waited for it: its result, success or failure, answers them all.
struct KbsClient::Flight {
  bool done = false;
  absl::StatusOr<std::shared_ptr<const Session>> result = absl::UnknownError("handshake not finished");
};

struct KbsClient::Session {
  http::CookieJar cookies;  // kbs-session-id and whatever else the broker set during the handshake
  SecretBytes token;        // the attestation token (JWT)
  TeeKey key;
  absl::Time created;
  absl::Time refresh_at;  // InfinitePast: never cache
};

namespace {

constexpr size_t kMaxEchoedText = 200;

// The longest `Authorization: Bearer …` header line sent: the common default per header line of
// nginx (large_client_header_buffers 8k) and Apache (LimitRequestFieldSize 8190). A longer token
// goes through the session cookie alone.
constexpr std::string_view kAuthorizationPrefix = "Authorization: Bearer ";
constexpr size_t kMaxAuthorizationHeaderBytes = 8190;

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

// The URL's path without scheme, authority and query ("/kbs/v0/auth"), for cookie matching.
std::string PathOf(std::string_view url) {
  size_t scheme = url.find("://");
  size_t slash = url.find('/', scheme == std::string_view::npos ? 0 : scheme + 3);
  if (slash == std::string_view::npos) return "/";
  return std::string(url.substr(slash, url.find('?', slash) - slash));
}

SecretBytes BearerValue(const SecretBytes& token) {
  SecretBytes v = SecretBytes::FromString("Bearer ");
  v.Append(token.Reveal());
  return v;
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
    if (ctx.Cancelled()) return absl::CancelledError(StrCat(what, ": abandoned, the caller departed"));
    http_requests_.fetch_add(1);
    auto r = http_->Send(request, ctx.deadline);
    if (r.ok() && r->status < 500) return r;
    if (!r.ok() && r.status().code() == absl::StatusCode::kFailedPrecondition) {
      // A TLS failure, or libcurl's module missing (the daemon, common/module_loader.h).
      if (IsModuleLoadFailure(r.status())) return Annotate(r.status(), "KBS");
      return Annotate(r.status(), "KBS (TLS: check kbc.kbs_cert)");
    }
    if (!r.ok() && r.status().code() != absl::StatusCode::kUnavailable) return Annotate(r.status(), "KBS");
    last = r.ok() ? UnexpectedStatus(what, *r) : Annotate(r.status(), "KBS unreachable");
    if (attempt == options_.max_transport_tries || absl::Now() + backoff >= ctx.deadline) break;
    if (ctx.cancellation != nullptr ? ctx.cancellation->WaitUntil(absl::Now() + backoff)
                                    : (absl::SleepFor(backoff), false)) {
      return absl::CancelledError(StrCat(what, ": abandoned, the caller departed"));
    }
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
  auth.cancellation = ctx.cancellation;
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
  http::CookieJar cookies;
  cookies.Update(auth_resp, PathOf(auth.url));
  if (!cookies.Has(kSessionCookieName)) return absl::UnavailableError("KBS /auth answer has no kbs-session-id cookie");

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
  http::HttpRequest attest{"POST",
                           StrCat(options_.url, kApiPrefix, "/attest"),
                           {{"Content-Type", "application/json"}},
                           BuildAttestRequest(attest_req)};
  attest.cancellation = ctx.cancellation;
  attest.secret_headers.push_back({"Cookie", cookies.HeaderFor(PathOf(attest.url))});
  auto attest_resp = Exchange(attest, ctx);
  if (!attest_resp.ok()) return attest_resp.status();
  if (attest_resp->status == 401) {
    return absl::UnauthenticatedError(StrCat("attestation refused by the KBS (", DescribeError(*attest_resp), ")"));
  }
  if (attest_resp->status == 413) {
    return absl::FailedPreconditionError(StrCat("the KBS refused an /attest request of ", attest.body.size(),
                                                " bytes as too large (HTTP 413): ", DescribeError(*attest_resp)));
  }
  cookies.Update(*attest_resp, PathOf(attest.url));  // a broker may refresh or add cookies here
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
      std::make_shared<Session>(Session{std::move(cookies), std::move(*token), std::move(key), now, refresh_at});
  return std::shared_ptr<const Session>(std::move(session));
}

absl::StatusOr<std::shared_ptr<const KbsClient::Session>> KbsClient::AcquireSession(const Session* stale,
                                                                                    const CallContext& ctx) {
  if (options_.reattest_every_call_for_test) return Handshake(ctx);
  for (;;) {
    std::shared_ptr<Flight> flight;
    bool lead = false;
    {
      // Wakes the wait below when the caller departs (the condition is re-evaluated on unlock).
      CancelCallback wake(ctx.cancellation.get(), [this] { absl::MutexLock touch(&mu_); });
      absl::MutexLock lock(&mu_);
      if (std::shared_ptr<const Session> cached = CachedSessionLocked(stale)) return cached;
      if (flight_ == nullptr) {
        flight_ = std::make_shared<Flight>();
        lead = true;
      }
      flight = flight_;
      if (!lead) {
        // Single flight: wait for the handshake under way and take its answer.
        auto finished = [&flight, &ctx]() { return flight->done || ctx.Cancelled(); };
        if (!mu_.AwaitWithDeadline(absl::Condition(&finished), ctx.deadline)) {
          return absl::DeadlineExceededError("deadline exceeded while waiting for the KBS handshake");
        }
        if (!flight->done) return absl::CancelledError("abandoned while waiting for the KBS handshake");
        absl::StatusCode code = flight->result.status().code();
        // One failed handshake answers all who waited on it, unless it failed only because its
        // own caller ran out of time or departed: then whoever still waits tries again.
        if (code != absl::StatusCode::kDeadlineExceeded && code != absl::StatusCode::kCancelled) {
          return flight->result;
        }
        continue;
      }
    }
    absl::StatusOr<std::shared_ptr<const Session>> fresh = Handshake(ctx);
    absl::MutexLock lock(&mu_);
    flight->result = fresh;
    flight->done = true;
    flight_.reset();
    if (fresh.ok() && (*fresh)->refresh_at > (*fresh)->created) session_ = *fresh;
    return fresh;
  }
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
  CallContext ctx = caller.WithDeadline(std::min(caller.deadline, absl::Now() + options_.call_budget));
  return AcquireSession(nullptr, ctx).status();
}

absl::StatusOr<SecretBytes> KbsClient::Token(const CallContext& caller) {
  CallContext ctx = caller.WithDeadline(std::min(caller.deadline, absl::Now() + options_.call_budget));
  absl::StatusOr<std::shared_ptr<const Session>> session = AcquireSession(nullptr, ctx);
  if (!session.ok()) return session.status();
  return (*session)->token.Clone();
}

absl::StatusOr<SecretBytes> KbsClient::GetResource(std::string_view plugin, std::string_view path,
                                                   std::optional<std::string_view> query, const CallContext& caller) {
  CallContext ctx = caller.WithDeadline(std::min(caller.deadline, absl::Now() + options_.call_budget));
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
  bool cookie_only = false;  // the KBS answered 431 to the bearer token
  for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
    if (!session) {
      CDH_ASSIGN_OR_RETURN(session, AcquireSession(stale.get(), ctx));
    }
    bool fresh = session->created >= call_start;
    http::HttpRequest get{"GET", url};
    get.cancellation = ctx.cancellation;
    SecretBytes cookie = session->cookies.HeaderFor(rel);
    if (!cookie.empty()) get.secret_headers.push_back({"Cookie", std::move(cookie)});
    // Prefer the channel that fits: a token too large for a header line goes only through the
    // session cookie, which Trustee maps back to the token it issued.
    size_t bearer_bytes = kAuthorizationPrefix.size() + session->token.size();
    bool send_bearer = !cookie_only && bearer_bytes <= kMaxAuthorizationHeaderBytes;
    if (send_bearer) {
      get.secret_headers.push_back({"Authorization", BearerValue(session->token)});
    } else if (get.secret_headers.empty()) {
      return absl::FailedPreconditionError(StrCat("KBS resource ", rel, ": the attestation token of ",
                                                  session->token.size(), " bytes does not fit a request header (limit ",
                                                  kMaxAuthorizationHeaderBytes, " bytes) and the KBS set no cookie"));
    }
    resource_requests_.fetch_add(1);
    auto resp = Exchange(get, ctx);
    if (!resp.ok()) return resp.status();

    if (resp->status == 431) {
      // Request Header Fields Too Large: drop the bearer token once and rely on the cookie.
      if (send_bearer && session->cookies.Has(kSessionCookieName)) {
        cookie_only = true;
        continue;
      }
      size_t header_bytes = 0;
      for (const http::SecretHeader& h : get.secret_headers) header_bytes += h.name.size() + 2 + h.value.size();
      return absl::FailedPreconditionError(StrCat("KBS resource ", rel, ": the KBS refused request headers of ",
                                                  header_bytes, " bytes as too large (HTTP 431)"));
    }
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
  auto http = http::NewHttpClient(std::move(http_options));
  if (!http.ok()) return Annotate(http.status(), "kbc.kbs_cert");
  options.url = connection.url;
  return KbsClient::New(std::move(options), std::move(http).value(), std::move(attester));
}

}  // namespace cdh::kbs
