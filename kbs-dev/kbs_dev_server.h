// KbsDevServer: a development Key Broker Service speaking Trustee's KBS protocol 0.4.0
// (Trustee: confidential-containers/trustee kbs/docs/kbs_attestation_protocol.md and
// kbs/src/api_server.rs), for tests and the README demo.
//
// DEVELOPMENT ONLY: it accepts `sample` evidence, which any process can produce. It checks the
// nonce and recomputes the runtime-data hash against the evidence's report data exactly as
// Trustee's sample verifier does, but nothing vouches for the TEE.
//
// Endpoints (all answers and status codes as Trustee; errors are problem bodies, §5):
//   POST /kbs/v0/auth                     challenge + kbs-session-id cookie (§1.1)
//   POST /kbs/v0/attest                   token {"token":"<ES256 JWT>"} (§1.2); the claims hold
//                                         `exp` and `tee-pubkey` at the top level (§4.3 path 6)
//   GET  /kbs/v0/resource/<r>/<t>/<g>     JWE to the token's tee-pubkey (§1.3, §3.4)
//   POST /kbs/v0/resource/<r>/<t>/<g>     admin: store raw bytes (§8.2)
//   POST /kbs/v0/resource-policy          admin: {"policy":"<b64url rego>"}; kbs-dev does not run
//                                         rego, it only tells allow-all from deny-all texts
//   GET  /healthz                         200
//   GET  /kbs-dev/v0/stats                counters as JSON (handshakes etc.), for tests
//   POST /kbs-dev/v0/misbehave            admin: JSON knobs making it misbehave (see Misbehaviour)
// Resources live in `<resource_dir>/repository/<repo>\x2F<type>\x2F<tag>` (Trustee's LocalFs).
// Admin auth (§8.1): `Authorization: Bearer <EdDSA JWT>` verified with `admin_public_key_pem`,
// `exp` checked, `role` must be "admin"; or no auth at all with `insecure_admin`.
// Thread-safe; neither copyable nor movable.
#ifndef CDH_KBS_DEV_KBS_DEV_SERVER_H_
#define CDH_KBS_DEV_KBS_DEV_SERVER_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "attestation/verifier/evidence_verifier.h"
#include "crypto/ec_p256.h"
#include "nlohmann/json.hpp"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace cdh::kbsdev {

struct KbsDevOptions {
  std::string resource_dir;
  std::string host = "127.0.0.1";
  int port = 0;  // 0: any free port
  absl::Duration token_lifetime = absl::Minutes(5);
  absl::Duration session_lifetime = absl::Minutes(5);
  bool insecure_admin = false;       // no admin auth (local use only)
  std::string admin_public_key_pem;  // Ed25519 SubjectPublicKeyInfo PEM
  std::string tls_cert_file;         // HTTPS when both are set
  std::string tls_key_file;
  bool strict_not_found = false;  // 404 for a missing resource instead of Trustee's 401
  // Verifiers for TEEs other than `sample` (TEE name → verifier; see
  // attestation/verifier/evidence_verifier.h). Evidence of a TEE without one is refused.
  std::map<std::string, std::shared_ptr<attestation::EvidenceVerifier>> verifiers;
};

// Runtime knobs (POST /kbs-dev/v0/misbehave with any subset of these JSON members).
struct Misbehaviour {
  std::string required_version = "0.4.0";  // /auth rejects other versions
  bool auth_not_challenge = false;         // /auth answers 200 with a body that is no challenge
  int fail_next = 0;                       // the next N /kbs/v0 requests get 500 text/plain
  int truncate_next = 0;                   // the next N resource GETs send half the body, then close
  bool expired_tokens = false;             // tokens issued with exp in the past
  bool deny_policy = false;                // every resource GET -> 401 PolicyDeny
  bool reject_tokens = false;              // every resource GET -> 401 TokenVerifierError
  int64_t token_lifetime_seconds = 0;      // > 0 overrides the option
  // Resource answers broken on purpose: "" (none), "plaintext" (the resource bytes instead of a
  // JWE), "flip_ciphertext" (one ciphertext bit flipped), "off_curve_epk" (the epk's y moved off
  // P-256).
  std::string corrupt_jwe;
};

struct KbsDevStats {
  uint64_t auth = 0;    // /auth answered with a challenge
  uint64_t attest = 0;  // tokens issued (= completed handshakes)
  uint64_t attest_failed = 0;
  uint64_t resource_get = 0;  // resource GETs received
  uint64_t resource_ok = 0;   // resource GETs answered with a JWE
  uint64_t admin = 0;         // admin requests accepted
  nlohmann::json ToJson() const;
};

class KbsDevServer {
 public:
  // INVALID_ARGUMENT for inconsistent options (no admin key and not insecure, a bad key, only
  // one of the TLS files); UNAVAILABLE when the port cannot be bound.
  static absl::StatusOr<std::unique_ptr<KbsDevServer>> Start(KbsDevOptions options);
  ~KbsDevServer();  // stops the server
  KbsDevServer(const KbsDevServer&) = delete;
  KbsDevServer& operator=(const KbsDevServer&) = delete;

  int port() const { return port_; }
  std::string url() const;  // "http(s)://127.0.0.1:<port>"
  KbsDevStats stats() const;
  void SetMisbehaviour(const Misbehaviour& m);
  // Makes every token issued so far invalid (the next resource GET with one gets 401).
  void RevokeTokens();
  void Stop();
  // Blocks until Stop() (for the binary's main).
  void Wait();

 private:
  struct SessionState;
  explicit KbsDevServer(KbsDevOptions options, crypto::EcP256PrivateKey signer);
  void Route(const httplib::Request& req, httplib::Response& res);
  void HandleAuth(const httplib::Request& req, httplib::Response& res);
  void HandleAttest(const httplib::Request& req, httplib::Response& res);
  void HandleResourceGet(const httplib::Request& req, httplib::Response& res, const std::string& path);
  void HandleResourcePost(const httplib::Request& req, httplib::Response& res, const std::string& path);
  void HandlePolicyPost(const httplib::Request& req, httplib::Response& res);
  void HandleMisbehave(const httplib::Request& req, httplib::Response& res);
  absl::Status CheckAdmin(const httplib::Request& req) const;
  // The verified claims of the request's token (cookie session first, then Bearer).
  absl::StatusOr<nlohmann::json> VerifiedClaims(const httplib::Request& req, std::string* problem_type);
  std::string IssueToken(std::string_view tee, const nlohmann::json& tee_pubkey, const nlohmann::json& evidence);

  const KbsDevOptions options_;
  const crypto::EcP256PrivateKey signer_;  // ephemeral token signing key
  // Its public half, made once: Trustee's token verifier also loads its key at start and only
  // verifies per request.
  const crypto::EcP256PublicKey verifier_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;

  mutable absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<SessionState>> sessions_ ABSL_GUARDED_BY(mu_);
  Misbehaviour misbehaviour_ ABSL_GUARDED_BY(mu_);
  KbsDevStats stats_ ABSL_GUARDED_BY(mu_);
  int64_t token_epoch_ ABSL_GUARDED_BY(mu_) = 0;
  bool policy_allows_ ABSL_GUARDED_BY(mu_) = true;
};

}  // namespace cdh::kbsdev

#endif  // CDH_KBS_DEV_KBS_DEV_SERVER_H_
