// SecretUnsealer: verifies a sealed secret and returns its plaintext (cdh-api.md §7-8).
//
// Steps: parse (sealed_secret.h) -> check `alg` is ES256 -> fetch the verification key named
// by `kid` (a KBS resource URI through the ResourceProvider, or a JWK file under the key
// directory) -> verify the signature over the parts as received -> parse the payload -> vault:
// ask the SecretGetter of its provider; envelope: ask the EnvelopeDecryptor.
// With `skip_verification` only the legacy 4-part form is accepted (cdh-api.md §7.3).
//
// Status codes: INVALID_ARGUMENT malformed secret, `kid` or payload; PERMISSION_DENIED the
// signature does not verify (or the broker's policy refused); NOT_FOUND the verification key
// or the secret does not exist; FAILED_PRECONDITION a local `kid` with no key directory;
// UNIMPLEMENTED unknown vault provider or no envelope support; plus what the ResourceProvider
// returns (UNAVAILABLE, UNAUTHENTICATED, DEADLINE_EXCEEDED).
// Thread-safe; neither copyable nor movable.
#ifndef CDH_RESOURCES_SECRET_SECRET_UNSEALER_H_
#define CDH_RESOURCES_SECRET_SECRET_UNSEALER_H_

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/call_context.h"
#include "common/secret_bytes.h"
#include "crypto/ec_p256.h"
#include "resources/resource_provider.h"
#include "resources/secret/sealed_secret.h"

namespace cdh::resources {

// Fetches the plaintext of a vault secret from one provider (cdh-api.md §8.2). Thread-safe.
class SecretGetter {
 public:
  virtual ~SecretGetter() = default;
  virtual absl::StatusOr<SecretBytes> GetSecret(const VaultSecret& secret, const CallContext& ctx) = 0;
};

// Vault provider `kbs`: `name` is a KBS resource URI fetched through the ResourceProvider.
// INVALID_ARGUMENT when `name` is not a resource URI.
class KbsSecretGetter : public SecretGetter {
 public:
  explicit KbsSecretGetter(ResourceProvider& provider) : provider_(provider) {}
  absl::StatusOr<SecretBytes> GetSecret(const VaultSecret& secret, const CallContext& ctx) override;

 private:
  ResourceProvider& provider_;
};

// Decrypts an envelope secret (cdh-api.md §8.3). Implemented by the KMS layer. Thread-safe.
class EnvelopeDecryptor {
 public:
  virtual ~EnvelopeDecryptor() = default;
  virtual absl::StatusOr<SecretBytes> Decrypt(const EnvelopeSecret& secret, const CallContext& ctx) = 0;
};

struct SecretUnsealerOptions {
  // cdh-api.md §5.2 `skip_sealed_secret_verification`.
  bool skip_verification = false;
  // Directory of local verification keys (`kid` that is not a URI), upstream
  // /run/confidential-containers/cdh/sealed-secret.
  std::string key_dir;
  // How long a verification key fetched from the broker (a KBS-URI `kid`; a public key) is
  // reused, so that a warm UnsealSecret costs one broker round trip (the secret) instead of two.
  // A signature that fails with a cached key is checked once more against a freshly fetched key,
  // so a rotated key takes effect at once; a key removed from the broker stays usable for at
  // most this long. Zero disables the cache (upstream fetches the key every time).
  absl::Duration kid_cache_ttl = absl::Minutes(5);
};

class SecretUnsealer {
 public:
  // Largest local verification key file read, in bytes.
  static constexpr size_t kMaxKeyFileSize = 64 << 10;

  // `kid_provider` resolves KBS-URI kids; `vault_getters` maps a lower-case provider name to
  // its getter; `envelope` may be null (envelope secrets then answer UNIMPLEMENTED).
  SecretUnsealer(SecretUnsealerOptions options, ResourceProvider& kid_provider,
                 std::map<std::string, std::unique_ptr<SecretGetter>> vault_getters, EnvelopeDecryptor* envelope);
  SecretUnsealer(const SecretUnsealer&) = delete;
  SecretUnsealer& operator=(const SecretUnsealer&) = delete;

  absl::StatusOr<SecretBytes> Unseal(std::string_view sealed_secret, const CallContext& ctx);

  // The verification key named by `kid` (KBS URI or file under the key directory); KBS-URI
  // keys may come from the cache (SecretUnsealerOptions::kid_cache_ttl).
  absl::StatusOr<crypto::EcP256PublicKey> VerificationKey(std::string_view kid, const CallContext& ctx);

 private:
  // `use_cache`: may answer from the cache; `*from_cache` says whether it did.
  absl::StatusOr<crypto::EcP256PublicKey> VerificationKeyImpl(std::string_view kid, const CallContext& ctx,
                                                              bool use_cache, bool* from_cache);
  // Largest number of cached verification keys.
  static constexpr size_t kMaxCachedKids = 256;
  struct CachedKid {
    std::string jwk;  // public key JSON as fetched
    absl::Time expires;
  };
  absl::Mutex kid_cache_mu_;
  std::map<std::string, CachedKid, std::less<>> kid_cache_ ABSL_GUARDED_BY(kid_cache_mu_);

  absl::StatusOr<SecretBytes> UnsealPayload(std::string_view payload_json, const CallContext& ctx);

  const SecretUnsealerOptions options_;
  ResourceProvider& kid_provider_;
  const std::map<std::string, std::unique_ptr<SecretGetter>> vault_getters_;
  EnvelopeDecryptor* const envelope_;
};

}  // namespace cdh::resources

#endif  // CDH_RESOURCES_SECRET_SECRET_UNSEALER_H_
