// KbsClient: the RCAR client of KBS protocol 0.4.0 with token reuse
// (Trustee: confidential-containers/trustee kbs/docs/kbs_attestation_protocol.md; the Rust
// client is guest-components attestation-agent/kbs_protocol/src/client/).
//
// Handshake: POST /kbs/v0/auth -> challenge (+ kbs-session-id cookie) -> fresh TEE key ->
// report data = hash(JCS runtime data) -> evidence from the Attester -> POST /kbs/v0/attest ->
// token. Resources: GET /kbs/v0/<plugin>/<path>[?query] with the session cookie and
// `Authorization: Bearer <token>` -> JWE decrypted with the TEE key.
//
// Reuse (unlike upstream CDH, which attests for every request): the token and TEE key serve all
// later requests until `exp - leeway` (leeway = min(refresh_leeway, a quarter of the token's
// lifetime), for guest clock skew) or until the KBS answers 401. Concurrent callers needing a
// token share one handshake (single flight), and its outcome: when it fails, everyone who waited
// for it gets that failure at once instead of retrying it in turn (except when it failed only
// because its own caller's deadline passed or its caller departed). A token whose `exp` is
// already past when it arrives is used for the request that obtained it but never cached.
//
// Cookies: every cookie the broker sets during the handshake (kbs-session-id and, e.g., a load
// balancer's affinity cookie) is kept and sent back (http/cookie_jar.h).
// Header size: the token goes as `Authorization: Bearer` with the session cookie when the
// header line fits 8190 bytes (the per-line default of nginx and Apache); a larger token, or a
// 431 answer, makes the request rely on the session cookie alone, which Trustee maps to the
// token it issued. When nothing fits: FAILED_PRECONDITION naming the size.
// Departed callers (CallContext::cancellation): waits for the broker, for another caller's
// handshake and between retries end with CANCELLED.
//
// Per GetResource: at most `max_attempts` GETs (default 3). 401 -> re-attest and retry, except:
// 401 PluginInternalError (Trustee's answer for a missing resource) is NOT_FOUND and 401
// JweError is FAILED_PRECONDITION at once (Trustee checks the token and the policy before those,
// so a new token cannot help); 401 PolicyDeny is final (PERMISSION_DENIED) when the token was
// obtained during this call, else it is retried once with a fresh token (the claims may have been
// stale). 404 -> NOT_FOUND at once, with no attestation. Transport failures and HTTP 5xx are retried with exponential
// backoff while the caller's deadline allows.
//
// Status codes (ResourceProvider contract, resources/resource_provider.h):
//   NOT_FOUND           404, or Trustee's 401 PluginInternalError
//   PERMISSION_DENIED   the KBS resource policy denied the request (PolicyDeny)
//   UNAUTHENTICATED     /auth or /attest refused (attestation failed), or 401s on every attempt
//   FAILED_PRECONDITION protocol version mismatch, TLS verification failure, a KBS that
//                       cannot encrypt to our key (JweError) or answers another 4xx (413 and
//                       431 name the size refused)
//   UNAVAILABLE         transport failure or 5xx after retries; a KBS answer that is not the
//                       protocol's (e.g. a /auth body that is not a challenge)
//   RESOURCE_EXHAUSTED  response body over the limit
//   DEADLINE_EXCEEDED   the caller's deadline passed
//   CANCELLED           the caller departed (CallContext::cancellation fired)
//   DATA_LOSS           the resource answer is not a JWE for our key: malformed, unsupported
//                       alg/enc or failing authentication (a broker fault; kbs-client/jwe.h)
//   INVALID_ARGUMENT    bad plugin/path/query
// Messages never contain tokens, cookies, keys or resource bytes.
// Thread-safe; neither copyable nor movable.
#ifndef CDH_KBS_CLIENT_KBS_CLIENT_H_
#define CDH_KBS_CLIENT_KBS_CLIENT_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "attestation/attester.h"
#include "common/call_context.h"
#include "common/secret_bytes.h"
#include "http/http_client.h"
#include "kbs-client/tee_key.h"

namespace cdh::kbs {

struct KbsClientOptions {
  // Base URL of the broker, "http(s)://host[:port]" (a trailing '/' is ignored). Always the
  // configured one, never a URI's authority.
  std::string url;
  TeeKeyAlgorithm key_algorithm = TeeKeyAlgorithm::kEcP256;
  // GETs per GetResource, each after a re-attestation when the previous one got 401.
  int max_attempts = 3;
  // Refresh this long before `exp` (capped at a quarter of the token lifetime).
  absl::Duration refresh_leeway = absl::Seconds(10);
  // Tries per HTTP exchange for transport failures and 5xx, and the first backoff (doubles).
  int max_transport_tries = 3;
  absl::Duration initial_backoff = absl::Milliseconds(100);
  // Overall budget of one GetResource/Attest call when the caller's deadline is further away (or
  // absent): bounds the worst case of attempts x transport tries x request timeouts.
  absl::Duration call_budget = absl::Minutes(2);
  // Upstream's behaviour: a full handshake with a new TEE key for every call, nothing cached.
  // For the benchmark's comparison only.
  bool reattest_every_call_for_test = false;
  // The RCAR `init-data` value sent with every attestation, {"format":"toml","body":...}
  // (attestation/init_data.h InitData::RcarValue()), or null when the guest has no init data.
  nlohmann::json init_data;
  // Called after every completed handshake with the token's expiry (InfiniteFuture when it has
  // no `exp`), for the daemon's log. Never receives credentials. May run on any caller's thread.
  std::function<void(absl::Time token_exp)> on_handshake;
  // Clock (seconds resolution is enough); tests may inject one.
  std::function<absl::Time()> clock = [] { return absl::Now(); };
};

class KbsClient {
 public:
  // INVALID_ARGUMENT when the URL is not http(s)://, or max_attempts/max_transport_tries < 1.
  static absl::StatusOr<std::unique_ptr<KbsClient>> New(KbsClientOptions options,
                                                        std::unique_ptr<http::HttpClient> http,
                                                        std::unique_ptr<attestation::Attester> attester);
  KbsClient(const KbsClient&) = delete;
  KbsClient& operator=(const KbsClient&) = delete;

  // The plaintext of `<plugin>/<path>` (path = segments joined by '/', e.g. "default/key/1";
  // `query` without '?', forwarded verbatim). See the class comment for the status codes.
  absl::StatusOr<SecretBytes> GetResource(std::string_view plugin, std::string_view path,
                                          std::optional<std::string_view> query, const CallContext& ctx);

  // Runs a handshake now if no usable token is cached (warm-up); the same codes as GetResource.
  absl::Status Attest(const CallContext& ctx);

  // The attestation token (JWT text) of the session every GetResource uses: the cached one while
  // it is usable, else one new handshake shared with concurrent callers (the attestation agent's
  // GetToken("kbs"), guest-components attestation-agent/src/token/kbs.rs). The codes of Attest.
  // The TEE key the token is bound to stays inside this object.
  absl::StatusOr<SecretBytes> Token(const CallContext& ctx);

  struct Stats {
    uint64_t handshakes = 0;         // completed /auth + /attest pairs
    uint64_t resource_requests = 0;  // resource GETs sent (incl. retries)
    uint64_t http_requests = 0;      // all HTTP exchanges attempted
  };
  Stats stats() const;
  std::string_view tee() const { return attester_->tee(); }

 private:
  struct Session;
  struct Flight;
  KbsClient(KbsClientOptions options, std::unique_ptr<http::HttpClient> http,
            std::unique_ptr<attestation::Attester> attester);

  // A usable session other than `stale`: the cached one, or a new one from a (single-flight)
  // handshake. `fresh` says whether it was created at or after `since`.
  absl::StatusOr<std::shared_ptr<const Session>> AcquireSession(const Session* stale, const CallContext& ctx)
      ABSL_LOCKS_EXCLUDED(mu_);
  // The cached session if it is usable and not `stale`, else null.
  std::shared_ptr<const Session> CachedSessionLocked(const Session* stale) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  absl::StatusOr<std::shared_ptr<const Session>> Handshake(const CallContext& ctx);
  void Invalidate(const Session* session) ABSL_LOCKS_EXCLUDED(mu_);
  // One HTTP exchange with retries for transport failures and 5xx.
  absl::StatusOr<http::HttpResponse> Exchange(const http::HttpRequest& request, const CallContext& ctx);

  const KbsClientOptions options_;
  const std::unique_ptr<http::HttpClient> http_;
  const std::unique_ptr<attestation::Attester> attester_;

  mutable absl::Mutex mu_;
  std::shared_ptr<const Session> session_ ABSL_GUARDED_BY(mu_);  // cached token + key, null when none
  std::shared_ptr<Flight> flight_ ABSL_GUARDED_BY(mu_);          // the handshake under way, if any

  std::atomic<uint64_t> handshakes_{0};
  std::atomic<uint64_t> resource_requests_{0};
  std::atomic<uint64_t> http_requests_{0};
};

// The broker connection as configured (`[kbc] url`, `kbs_cert`; cdh-api.md §5) plus client
// tuning. Builds a KbsClient over libcurl. INVALID_ARGUMENT for an inconsistent configuration,
// reported at startup: a URL that is not http(s)://, a `kbs_cert` that holds no
// certificate, or a `kbs_cert` given for an http:// URL (it would be silently unused).
struct KbsConnectionConfig {
  std::string url;
  std::string kbs_cert_pem;  // trust anchor for this connection only; empty = system store
  absl::Duration request_timeout = absl::Seconds(30);
  size_t max_response_bytes = 16 << 20;
};
absl::StatusOr<std::unique_ptr<KbsClient>> NewCurlKbsClient(const KbsConnectionConfig& connection,
                                                            KbsClientOptions options,
                                                            std::unique_ptr<attestation::Attester> attester);

}  // namespace cdh::kbs

#endif  // CDH_KBS_CLIENT_KBS_CLIENT_H_
