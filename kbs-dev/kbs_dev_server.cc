#include "kbs-dev/kbs_dev_server.h"

#include <httplib.h>

#include <regex>

#include "absl/time/clock.h"
#include "attestation/init_data.h"
#include "attestation/tee_names.h"
#include "common/base64.h"
#include "common/file_util.h"
#include "common/json.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "crypto/ed25519.h"
#include "crypto/hash.h"
#include "kbs-client/jwe.h"
#include "kbs-client/kbs_protocol.h"
#include "kbs-dev/kbs_server_messages.h"

namespace cdh::kbsdev {

struct KbsDevServer::SessionState {
  std::string tee;  // from /auth
  std::string nonce;
  absl::Time expires;
  std::string token;  // set once attested
};

namespace {

constexpr size_t kMaxSessions = 10000;
constexpr size_t kMaxResourceSize = 16 << 20;
constexpr size_t kPayloadLimit = 2 << 20;  // Trustee's default payload_request_size
constexpr size_t kWorkerThreads = 64;

void Problem(httplib::Response& res, int status, std::string_view type, std::string_view detail) {
  res.status = status;
  res.set_content(kbs::BuildProblem(type, detail), "application/json");
}

std::string RandomHex(size_t bytes) {
  auto r = crypto::RandomBytes(bytes);
  return r.ok() ? crypto::HexEncode(std::string(r->RevealString())) : std::string();
}

std::string CookieValue(const httplib::Request& req) {
  std::string header = req.get_header_value("Cookie");
  std::string prefix = StrCat(kbs::kSessionCookieName, "=");
  for (std::string_view part : StrSplit(header, ';')) {
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    if (part.starts_with(prefix)) return std::string(part.substr(prefix.size()));
  }
  return "";
}

std::string BearerToken(const httplib::Request& req) {
  std::string header = req.get_header_value("Authorization");
  if (header.starts_with("Bearer ")) return header.substr(7);
  return "";
}

bool ValidSegment(std::string_view s) {
  static const std::regex re(R"(^[a-zA-Z0-9_\-]+[a-zA-Z0-9_\-\.]*$)");
  return std::regex_match(s.begin(), s.end(), re);
}

// `<repo>/<type>/<tag>` -> file under resource_dir (Trustee LocalFs naming), or "" if invalid.
std::string ResourceFile(const std::string& dir, const std::string& path) {
  std::vector<std::string_view> segs = StrSplit(path, '/');
  if (segs.size() != 3) return "";
  for (auto s : segs) {
    if (!ValidSegment(s)) return "";
  }
  return StrCat(dir, "/repository/", segs[0], "\\x2F", segs[1], "\\x2F", segs[2]);
}

std::string HttpDate(absl::Time t) { return absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT", t, absl::UTCTimeZone()); }

}  // namespace

nlohmann::json KbsDevStats::ToJson() const {
  return {{"auth", auth},
          {"attest", attest},
          {"attest_failed", attest_failed},
          {"resource_get", resource_get},
          {"resource_ok", resource_ok},
          {"admin", admin}};
}

absl::StatusOr<std::unique_ptr<KbsDevServer>> KbsDevServer::Start(KbsDevOptions options) {
  if (options.resource_dir.empty()) return absl::InvalidArgumentError("kbs-dev: a resource directory is required");
  if (!options.insecure_admin) {
    if (options.admin_public_key_pem.empty()) {
      return absl::InvalidArgumentError("kbs-dev: give an admin public key, or allow insecure admin access explicitly");
    }
    // Check the key now: a bad key would otherwise only show on the first admin call.
    auto probe = crypto::VerifyEd25519(options.admin_public_key_pem, "probe", std::string(64, '\0'));
    if (probe.code() == absl::StatusCode::kInvalidArgument) return probe;
  }
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return absl::InvalidArgumentError("kbs-dev: give both a TLS certificate and key, or neither");
  }
  CDH_RETURN_IF_ERROR(MakeDirs(options.resource_dir + "/repository", 0700));
  CDH_ASSIGN_OR_RETURN(crypto::EcP256PrivateKey signer, crypto::EcP256PrivateKey::Generate());
  std::unique_ptr<KbsDevServer> s(new KbsDevServer(std::move(options), std::move(signer)));
  if (!s->options_.tls_cert_file.empty()) {
    auto ssl =
        std::make_unique<httplib::SSLServer>(s->options_.tls_cert_file.c_str(), s->options_.tls_key_file.c_str());
    if (!ssl->is_valid()) return absl::InvalidArgumentError("kbs-dev: the TLS certificate or key does not load");
    s->server_ = std::move(ssl);
  } else {
    s->server_ = std::make_unique<httplib::Server>();
  }
  KbsDevServer* self = s.get();
  s->server_->set_payload_max_length(kPayloadLimit);
  // httplib holds a worker per kept-alive connection: enough workers for 32+ concurrent clients.
  s->server_->new_task_queue = [] { return new httplib::ThreadPool(kWorkerThreads); };
  s->server_->set_keep_alive_max_count(1000);
  // httplib writes headers and body separately: without TCP_NODELAY, Nagle plus delayed ACKs add
  // ~40 ms to every answer.
  s->server_->set_tcp_nodelay(true);
  // An access log like Trustee's: method, path and status of every request (no bodies, no
  // headers: they carry tokens and secrets).
  s->server_->set_logger([](const httplib::Request& req, const httplib::Response& res) {
    std::string path = cdh::Sanitize(req.path, 256);
    std::fprintf(stderr, "kbs-dev: %s %s %d\n", req.method.c_str(), path.c_str(), res.status);
  });
  auto handler = [self](const httplib::Request& req, httplib::Response& res) { self->Route(req, res); };
  s->server_->Get(".*", handler);
  s->server_->Post(".*", handler);
  s->server_->Put(".*", handler);
  s->server_->Delete(".*", handler);
  if (s->options_.port == 0) {
    s->port_ = s->server_->bind_to_any_port(s->options_.host.c_str());
  } else {
    s->port_ = s->server_->bind_to_port(s->options_.host.c_str(), s->options_.port) ? s->options_.port : -1;
  }
  if (s->port_ <= 0) return absl::UnavailableError(StrCat("kbs-dev: cannot bind ", s->options_.host));
  s->thread_ = std::thread([self] { self->server_->listen_after_bind(); });
  // httplib 0.11 has no wait_until_ready, and a stop() issued before the accept loop starts is
  // lost: wait (bounded) until it runs.
  for (int i = 0; i < 5000 && !s->server_->is_running(); ++i) absl::SleepFor(absl::Milliseconds(1));
  if (!s->server_->is_running()) return absl::UnavailableError("kbs-dev: the HTTP server did not start");
  return s;
}

KbsDevServer::KbsDevServer(KbsDevOptions options, crypto::EcP256PrivateKey signer)
    : options_(std::move(options)), signer_(std::move(signer)), verifier_(signer_.PublicKey()) {}

KbsDevServer::~KbsDevServer() { Stop(); }

void KbsDevServer::Stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

void KbsDevServer::Wait() {
  if (thread_.joinable()) thread_.join();
}

std::string KbsDevServer::url() const {
  return StrCat(options_.tls_cert_file.empty() ? "http://" : "https://", options_.host, ":", port_);
}

KbsDevStats KbsDevServer::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

void KbsDevServer::SetMisbehaviour(const Misbehaviour& m) {
  absl::MutexLock lock(&mu_);
  misbehaviour_ = m;
}

void KbsDevServer::RevokeTokens() {
  absl::MutexLock lock(&mu_);
  ++token_epoch_;
}

void KbsDevServer::Route(const httplib::Request& req, httplib::Response& res) {
  const std::string& path = req.path;
  if (path == "/healthz" && req.method == "GET") {
    res.status = 200;
    return;
  }
  if (path == "/kbs-dev/v0/stats" && req.method == "GET") {
    res.set_content(stats().ToJson().dump(), "application/json");
    return;
  }
  if (path == "/kbs-dev/v0/misbehave" && req.method == "POST") return HandleMisbehave(req, res);
  std::string prefix = StrCat(kbs::kApiPrefix, "/");
  if (!path.starts_with(prefix)) {
    res.status = 404;
    return;
  }
  {
    absl::MutexLock lock(&mu_);
    if (misbehaviour_.fail_next > 0) {
      --misbehaviour_.fail_next;
      res.status = 500;
      res.set_content("Internal Server Error", "text/plain");
      return;
    }
  }
  std::string rest = path.substr(prefix.size());
  std::string plugin = rest.substr(0, rest.find('/'));
  std::string sub = rest.find('/') == std::string::npos ? "" : rest.substr(rest.find('/') + 1);
  if (plugin == "auth" && req.method == "POST") return HandleAuth(req, res);
  if (plugin == "attest" && req.method == "POST") return HandleAttest(req, res);
  if (plugin == "resource-policy" && req.method == "POST") return HandlePolicyPost(req, res);
  if (plugin == "resource" && req.method == "GET") return HandleResourceGet(req, res, sub);
  if (plugin == "resource" && req.method == "POST") return HandleResourcePost(req, res, sub);
  Problem(res, 404, "PluginNotFound", StrCat("Plugin ", plugin, " not found"));
}

void KbsDevServer::HandleAuth(const httplib::Request& req, httplib::Response& res) {
  auto parsed = kbs::ParseAuthRequest(req.body);
  if (!parsed.ok()) {
    return Problem(res, 401, "AttestationError",
                   "Attestation error: RCAR handshake Auth failed: failed to parse the request");
  }
  std::string required;
  bool garbage = false;
  {
    absl::MutexLock lock(&mu_);
    required = misbehaviour_.required_version;
    garbage = misbehaviour_.auth_not_challenge;
  }
  if (parsed->version != required) {
    return Problem(res, 401, "AttestationError",
                   StrCat("Attestation error: RCAR handshake Auth failed: KBS Client Protocol Version Mismatch: "
                          "expect =",
                          required, " while the request is ", parsed->version));
  }
  if (!attestation::IsKbsTeeName(parsed->tee)) {
    return Problem(res, 401, "AttestationError",
                   StrCat("Attestation error: RCAR handshake Auth failed: unknown tee ", parsed->tee));
  }
  if (garbage) {
    res.status = 200;
    res.set_content("<html><body>Welcome</body></html>", "text/html");
    return;
  }
  auto nonce_bytes = crypto::RandomBytes(32);
  std::string id = RandomHex(16);
  if (!nonce_bytes.ok() || id.empty()) return Problem(res, 401, "AttestationError", "Attestation error: no randomness");
  auto session = std::make_shared<SessionState>();
  session->tee = parsed->tee;
  session->nonce = Base64StdEncode(nonce_bytes->Reveal());
  session->expires = absl::Now() + options_.session_lifetime;
  {
    absl::MutexLock lock(&mu_);
    if (sessions_.size() >= kMaxSessions) {
      absl::Time now = absl::Now();
      std::erase_if(sessions_, [now](const auto& kv) { return kv.second->expires <= now; });
      if (sessions_.size() >= kMaxSessions) sessions_.erase(sessions_.begin());
    }
    sessions_[id] = session;
    ++stats_.auth;
  }
  res.set_header("Set-Cookie", StrCat(kbs::kSessionCookieName, "=", id, "; Expires=", HttpDate(session->expires)));
  res.set_content(kbs::BuildChallenge(session->nonce), "application/json");
}

std::string KbsDevServer::IssueToken(std::string_view tee, const nlohmann::json& tee_pubkey,
                                     const nlohmann::json& evidence) {
  int64_t now = absl::ToUnixSeconds(absl::Now());
  int64_t lifetime = absl::ToInt64Seconds(options_.token_lifetime);
  int64_t epoch = 0;
  bool expired = false;
  {
    absl::MutexLock lock(&mu_);
    if (misbehaviour_.token_lifetime_seconds > 0) lifetime = misbehaviour_.token_lifetime_seconds;
    expired = misbehaviour_.expired_tokens;
    epoch = token_epoch_;
  }
  nlohmann::json claims = {
      {"iss", "kbs-dev"},        {"iat", now},           {"exp", expired ? now - 60 : now + lifetime},
      {"tee", std::string(tee)}, {"evidence", evidence}, {"tee-pubkey", tee_pubkey},
      {"kbs-dev-epoch", epoch}};
  std::string signing_input =
      StrCat(Base64UrlEncode(std::string(R"({"alg":"ES256","typ":"JWT"})")), ".", Base64UrlEncode(claims.dump()));
  auto sig = signer_.SignEs256(signing_input);
  return StrCat(signing_input, ".", sig.ok() ? Base64UrlEncode(*sig) : std::string());
}

void KbsDevServer::HandleAttest(const httplib::Request& req, httplib::Response& res) {
  auto fail = [&](std::string_view why) {
    {
      absl::MutexLock lock(&mu_);
      ++stats_.attest_failed;
    }
    std::fprintf(stderr, "kbs-dev: attestation failed: %.*s\n", static_cast<int>(why.size()), why.data());
    Problem(res, 401, "AttestationError", "Attestation error: RCAR handshake Attest failed");
  };
  std::string id = CookieValue(req);
  std::shared_ptr<SessionState> session;
  {
    absl::MutexLock lock(&mu_);
    auto it = sessions_.find(id);
    if (it != sessions_.end() && it->second->expires <= absl::Now()) {
      sessions_.erase(it);
      it = sessions_.end();
    }
    if (it != sessions_.end()) session = it->second;
  }
  if (id.empty() || !session) return fail("no live session for the cookie");
  auto cookie = StrCat(kbs::kSessionCookieName, "=", id, "; Expires=", HttpDate(session->expires));
  {
    absl::MutexLock lock(&mu_);
    if (!session->token.empty()) {  // already attested: the stored token again (trustee PR #376)
      res.set_header("Set-Cookie", cookie);
      res.set_content(nlohmann::json{{"token", session->token}}.dump(), "application/json");
      return;
    }
  }
  auto attest = kbs::ParseAttestRequest(req.body);
  if (!attest.ok()) return fail(ToStd(attest.status().message()));
  if (attest->nonce != session->nonce) return fail("nonce mismatch");
  // The sample verifier (kbs-protocol.md §7): report_data must equal the SHA-384 digest of the
  // canonical runtime data, byte for byte. Nothing else is checked: sample evidence is unsigned.
  auto expected = kbs::RuntimeDataDigest(crypto::HashAlgorithm::kSha384, session->nonce, attest->tee_pubkey,
                                         attest->additional_evidence);
  if (!expected.ok()) return fail("runtime data cannot be canonicalised");
  const nlohmann::json& ev = attest->primary_evidence;
  if (session->tee != "sample") {
    // A registered verifier for the TEE named in /auth (attestation/verifier).
    auto verifier = options_.verifiers.find(session->tee);
    if (verifier == options_.verifiers.end()) return fail(StrCat("no verifier for TEE ", session->tee));
    std::optional<std::string> init_digest;  // RCAR init-data: PCR 8 must hold its binding
    if (!attest->init_data.is_null()) {
      const nlohmann::json& init = attest->init_data;
      if (!init.is_object() || init.value("format", "") != "toml" || !init.contains("body") ||
          !init["body"].is_string()) {
        return fail("init-data must be {\"format\":\"toml\",\"body\":...}");
      }
      auto parsed = attestation::ParseInitData(init["body"].get<std::string>());
      if (!parsed.ok()) return fail(ToStd(parsed.status().message()));
      init_digest = parsed->digest;
    }
    auto claims = verifier->second->Verify(ev, *expected, init_digest);
    if (!claims.ok()) return fail(ToStd(claims.status().message()));
  } else {
    if (!ev.is_object() || !ev.contains("report_data") || !ev["report_data"].is_string() || !ev.contains("svn") ||
        !ev["svn"].is_string()) {
      return fail("evidence is not sample evidence");
    }
    auto report_data = Base64StdDecode(ev["report_data"].get<std::string>());
    if (!report_data.ok() || *report_data != *expected) return fail("report data does not match the runtime data");
  }
  std::string token = IssueToken(session->tee, attest->tee_pubkey, ev);
  {
    absl::MutexLock lock(&mu_);
    session->token = token;
    ++stats_.attest;
  }
  res.set_header("Set-Cookie", cookie);
  res.set_content(nlohmann::json{{"token", token}}.dump(), "application/json");
}

absl::StatusOr<nlohmann::json> KbsDevServer::VerifiedClaims(const httplib::Request& req, std::string* problem_type) {
  std::string token;
  {
    absl::MutexLock lock(&mu_);
    auto it = sessions_.find(CookieValue(req));
    if (it != sessions_.end() && it->second->expires > absl::Now() && !it->second->token.empty()) {
      token = it->second->token;
    }
  }
  if (token.empty()) token = BearerToken(req);
  if (token.empty()) {
    *problem_type = "TokenNotFound";
    return absl::UnauthenticatedError("Attestation Token not found");
  }
  *problem_type = "TokenVerifierError";
  std::vector<std::string_view> parts = StrSplit(token, '.');
  if (parts.size() != 3) return absl::UnauthenticatedError("Token Verifier error");
  auto sig = Base64UrlDecode(parts[2]);
  if (!sig.ok() || !verifier_.VerifyEs256(StrCat(parts[0], ".", parts[1]), *sig).ok()) {
    return absl::UnauthenticatedError("Token Verifier error");
  }
  auto payload = Base64UrlDecode(parts[1]);
  if (!payload.ok()) return absl::UnauthenticatedError("Token Verifier error");
  auto claims = kbs::ParseProtocolJson(*payload, "claims");
  if (!claims.ok() || !claims->is_object() || !(*claims)["exp"].is_number_integer()) {
    return absl::UnauthenticatedError("Token Verifier error");
  }
  absl::MutexLock lock(&mu_);
  if ((*claims)["exp"].get<int64_t>() <= absl::ToUnixSeconds(absl::Now()) ||
      (*claims)["kbs-dev-epoch"] != token_epoch_ || misbehaviour_.reject_tokens) {
    return absl::UnauthenticatedError("Token Verifier error");
  }
  return claims;
}

namespace {

// Flips one bit of the base64url-encoded bytes `b64` at byte `index` (mod its length).
std::string FlipBase64UrlBit(const std::string& b64, size_t index) {
  auto raw = Base64UrlDecode(b64);
  if (!raw.ok() || raw->empty()) return b64;
  (*raw)[index % raw->size()] ^= 0x01;
  return Base64UrlEncode(*raw);
}

// The Misbehaviour::corrupt_jwe variants, applied to a well-formed JWE.
std::string CorruptJwe(const std::string& how, const std::string& jwe_text, const SecretBytes& plaintext) {
  if (how == "plaintext") return std::string(plaintext.RevealString());
  auto jwe = ParseJson(jwe_text, "JWE");
  if (!jwe.ok() || !jwe->is_object()) return jwe_text;
  if (how == "flip_ciphertext" && (*jwe)["ciphertext"].is_string()) {
    (*jwe)["ciphertext"] = FlipBase64UrlBit((*jwe)["ciphertext"].get<std::string>(), 0);
  } else if (how == "off_curve_epk" && (*jwe)["protected"].is_string()) {
    auto header_text = Base64UrlDecode((*jwe)["protected"].get<std::string>());
    if (!header_text.ok()) return jwe_text;
    auto header = ParseJson(*header_text, "JWE header");
    if (!header.ok() || !header->contains("epk") || !(*header)["epk"]["y"].is_string()) return jwe_text;
    (*header)["epk"]["y"] = FlipBase64UrlBit((*header)["epk"]["y"].get<std::string>(), 31);
    (*jwe)["protected"] = Base64UrlEncode(header->dump());
  }
  return jwe->dump();
}

}  // namespace

void KbsDevServer::HandleResourceGet(const httplib::Request& req, httplib::Response& res, const std::string& path) {
  {
    absl::MutexLock lock(&mu_);
    ++stats_.resource_get;
  }
  std::string problem_type;
  auto claims = VerifiedClaims(req, &problem_type);
  if (!claims.ok()) return Problem(res, 401, problem_type, ToStd(claims.status().message()));
  bool deny = false;
  bool truncate = false;
  std::string corrupt_jwe;
  {
    absl::MutexLock lock(&mu_);
    deny = misbehaviour_.deny_policy || !policy_allows_;
    corrupt_jwe = misbehaviour_.corrupt_jwe;
    if (misbehaviour_.truncate_next > 0) {
      --misbehaviour_.truncate_next;
      truncate = true;
    }
  }
  if (deny) return Problem(res, 401, "PolicyDeny", "Access denied by policy");
  std::string file = ResourceFile(options_.resource_dir, path);
  if (file.empty()) return Problem(res, 401, "PluginInternalError", "Plugin internal error");
  auto plaintext = ReadSecretFile(file, kMaxResourceSize);
  if (!plaintext.ok()) {
    if (options_.strict_not_found && plaintext.status().code() == absl::StatusCode::kNotFound) {
      return Problem(res, 404, "ResourceNotFound", StrCat("Resource ", path, " not found"));
    }
    return Problem(res, 401, "PluginInternalError", "Plugin internal error");
  }
  auto jwe = kbs::EncryptJwe(*plaintext, (*claims)["tee-pubkey"]);
  if (!jwe.ok()) return Problem(res, 401, "JweError", "JWE failed");
  if (!corrupt_jwe.empty()) *jwe = CorruptJwe(corrupt_jwe, *jwe, *plaintext);
  {
    absl::MutexLock lock(&mu_);
    ++stats_.resource_ok;
  }
  if (truncate) {
    auto body = std::make_shared<std::string>(std::move(*jwe));
    res.set_content_provider(body->size(), "application/json",
                             [body](size_t offset, size_t length, httplib::DataSink& sink) {
                               sink.write(body->data(), body->size() / 2);
                               return false;  // abort: the client sees a short body
                             });
    return;
  }
  res.set_content(*jwe, "application/json");
}

absl::Status KbsDevServer::CheckAdmin(const httplib::Request& req) const {
  if (options_.insecure_admin) return absl::OkStatus();
  std::string token = BearerToken(req);
  std::vector<std::string_view> parts = StrSplit(token, '.');
  if (parts.size() != 3) return absl::UnauthenticatedError("admin bearer token missing");
  auto header = Base64UrlDecode(parts[0]);
  auto payload = Base64UrlDecode(parts[1]);
  auto sig = Base64UrlDecode(parts[2]);
  if (!header.ok() || !payload.ok() || !sig.ok()) return absl::UnauthenticatedError("admin token malformed");
  auto h = kbs::ParseProtocolJson(*header, "admin token header");
  if (!h.ok() || !h->is_object() || (*h)["alg"] != "EdDSA")
    return absl::UnauthenticatedError("admin token alg must be EdDSA");
  CDH_RETURN_IF_ERROR(crypto::VerifyEd25519(options_.admin_public_key_pem, StrCat(parts[0], ".", parts[1]), *sig));
  auto claims = kbs::ParseProtocolJson(*payload, "admin token claims");
  if (!claims.ok() || !claims->is_object() || !(*claims)["exp"].is_number_integer() ||
      (*claims)["exp"].get<int64_t>() <= absl::ToUnixSeconds(absl::Now())) {
    return absl::UnauthenticatedError("admin token expired or without exp");
  }
  if (!(*claims)["role"].is_string() || (*claims)["role"] != "admin") {
    return absl::PermissionDeniedError("admin token role is not admin");
  }
  return absl::OkStatus();
}

void KbsDevServer::HandleResourcePost(const httplib::Request& req, httplib::Response& res, const std::string& path) {
  if (auto s = CheckAdmin(req); !s.ok()) {
    return Problem(res, 401, "AdminAuthInitialization",
                   StrCat("failed to initialize [admin] configuration: ", ToStd(s.message())));
  }
  std::string file = ResourceFile(options_.resource_dir, path);
  if (file.empty()) return Problem(res, 401, "PluginInternalError", "Plugin internal error");
  if (auto s = WriteFileAtomic(file, req.body, 0600); !s.ok()) {
    return Problem(res, 401, "PluginInternalError", "Plugin internal error");
  }
  {
    absl::MutexLock lock(&mu_);
    ++stats_.admin;
  }
  res.status = 200;
  res.set_content("", "text/xml");
}

void KbsDevServer::HandlePolicyPost(const httplib::Request& req, httplib::Response& res) {
  if (auto s = CheckAdmin(req); !s.ok()) {
    return Problem(res, 401, "AdminAuthAccess",
                   StrCat("admin access denied for endpoint resource-policy: ", ToStd(s.message())));
  }
  auto body = kbs::ParseProtocolJson(req.body, "policy request");
  std::optional<std::string> rego;
  if (body.ok() && body->is_object() && (*body)["policy"].is_string()) {
    auto decoded = Base64UrlDecode((*body)["policy"].get<std::string>());
    if (decoded.ok()) rego = *decoded;
  }
  if (!rego) return Problem(res, 401, "ParsePolicyError", "Failed to parse policy: expected base64url");
  // Not a rego engine: a policy with any `allow if`/`allow {`/`allow = true` rule allows all.
  bool allows = rego->find("allow if") != std::string::npos || rego->find("allow {") != std::string::npos ||
                rego->find("allow = true") != std::string::npos;
  {
    absl::MutexLock lock(&mu_);
    policy_allows_ = allows;
    ++stats_.admin;
  }
  res.status = 200;
}

void KbsDevServer::HandleMisbehave(const httplib::Request& req, httplib::Response& res) {
  if (auto s = CheckAdmin(req); !s.ok()) return Problem(res, 401, "AdminAuthAccess", ToStd(s.message()));
  auto j = kbs::ParseProtocolJson(req.body, "misbehave request");
  if (!j.ok() || !j->is_object()) return Problem(res, 400, "SerdeError", "Serialize/Deserialize failed");
  absl::MutexLock lock(&mu_);
  Misbehaviour& m = misbehaviour_;
  auto get = [&](const char* k, auto& field) {
    auto it = j->find(k);
    if (it != j->end() && !it->is_null()) field = it->get<std::decay_t<decltype(field)>>();
  };
  nlohmann::json& in = *j;
  // Type errors would throw in get<>(): validate first.
  for (auto& [k, v] : in.items()) {
    if (!(v.is_boolean() || v.is_number_integer() || v.is_string())) {
      return Problem(res, 400, "SerdeError", "misbehave knobs are booleans, integers or strings");
    }
  }
  for (const char* t : {"required_version", "corrupt_jwe"}) {
    if (in.contains(t) && !in[t].is_string()) return Problem(res, 400, "SerdeError", t);
  }
  for (const char* b : {"auth_not_challenge", "expired_tokens", "deny_policy", "reject_tokens"}) {
    if (in.contains(b) && !in[b].is_boolean()) return Problem(res, 400, "SerdeError", b);
  }
  for (const char* n : {"fail_next", "truncate_next", "token_lifetime_seconds"}) {
    if (in.contains(n) && !in[n].is_number_integer()) return Problem(res, 400, "SerdeError", n);
  }
  get("required_version", m.required_version);
  get("auth_not_challenge", m.auth_not_challenge);
  get("fail_next", m.fail_next);
  get("truncate_next", m.truncate_next);
  get("expired_tokens", m.expired_tokens);
  get("deny_policy", m.deny_policy);
  get("reject_tokens", m.reject_tokens);
  get("token_lifetime_seconds", m.token_lifetime_seconds);
  get("corrupt_jwe", m.corrupt_jwe);
  if (in.contains("revoke_tokens") && in["revoke_tokens"] == true) ++token_epoch_;
  res.status = 200;
}

}  // namespace cdh::kbsdev
