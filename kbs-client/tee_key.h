// TeeKey: the TEE key pair whose public half goes into the attestation runtime data and to which
// the KBS encrypts resources (KBS protocol 0.4.0, Trustee: confidential-containers/trustee
// kbs/docs/kbs_attestation_protocol.md).
//
//   kEcP256     EC P-256, JWE alg ECDH-ES+A256KW (the default, as upstream)
//   kRsa2048    RSA-2048, JWE alg RSA-OAEP-256 (SHA-256 for both OAEP hash and MGF1)
//
// The public JWK has exactly the members the broker hashes: {kty, crv, alg, x, y} or
// {kty, alg, n, e}, base64url without padding, EC coordinates of fixed length (§3.1).
// The private key never leaves this object (there is no export).
// Move-only; thread-safe for concurrent const use.
#ifndef CDH_KBS_CLIENT_TEE_KEY_H_
#define CDH_KBS_CLIENT_TEE_KEY_H_

#include <memory>
#include <string_view>
#include <variant>

#include "absl/status/statusor.h"
#include "crypto/ec_p256.h"
#include "crypto/rsa_oaep.h"
#include "nlohmann/json.hpp"

namespace cdh::kbs {

enum class TeeKeyAlgorithm { kEcP256, kRsa2048 };

// "ECDH-ES+A256KW" | "ECDH-ES+A256KW-P256" -> kEcP256; "RSA-OAEP-256" -> kRsa2048
// (upstream's `tee_key_algorithm` spellings). INVALID_ARGUMENT otherwise.
absl::StatusOr<TeeKeyAlgorithm> ParseTeeKeyAlgorithm(std::string_view name);

class TeeKey {
 public:
  static constexpr std::string_view kEcAlg = "ECDH-ES+A256KW";
  static constexpr std::string_view kRsaAlg = "RSA-OAEP-256";

  // A fresh key pair. INTERNAL if key generation fails.
  static absl::StatusOr<TeeKey> Generate(TeeKeyAlgorithm algorithm);
  // Wraps existing keys (known-answer tests).
  static TeeKey FromEc(crypto::EcP256PrivateKey key) { return TeeKey(std::move(key)); }
  static TeeKey FromRsa(crypto::RsaPrivateKey key) { return TeeKey(std::move(key)); }

  TeeKey(TeeKey&&) noexcept = default;
  TeeKey& operator=(TeeKey&&) noexcept = default;

  TeeKeyAlgorithm algorithm() const;
  // The JWE `alg` this key expects ("ECDH-ES+A256KW" or "RSA-OAEP-256").
  std::string_view jwe_alg() const;
  nlohmann::json PublicJwk() const;

  // The key itself, or null when it is of the other type (for jwe.cc).
  const crypto::EcP256PrivateKey* ec() const { return std::get_if<crypto::EcP256PrivateKey>(&key_); }
  const crypto::RsaPrivateKey* rsa() const { return std::get_if<crypto::RsaPrivateKey>(&key_); }

 private:
  explicit TeeKey(crypto::EcP256PrivateKey key) : key_(std::move(key)) {}
  explicit TeeKey(crypto::RsaPrivateKey key) : key_(std::move(key)) {}
  std::variant<crypto::EcP256PrivateKey, crypto::RsaPrivateKey> key_;
};

}  // namespace cdh::kbs

#endif  // CDH_KBS_CLIENT_TEE_KEY_H_
