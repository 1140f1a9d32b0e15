// EC P-256 keys as JWKs and ES256 (ECDSA P-256 with SHA-256, raw r||s signatures).
// Sealed-secret signatures: cdh-api.md §7.1-7.2 and §13 (JWK members of `secret keygen`).
//
// EcP256PublicKey and EcP256PrivateKey are move-only and thread-safe for concurrent const use.
// The private scalar lives inside OpenSSL's EVP_PKEY (freed with a wipe) and leaves it only
// through ToPrivateJwk(). Generated keys and imported public keys copy one process-wide,
// read-only set of P-256 domain parameters instead of building the curve anew for each key.
#ifndef CDH_CRYPTO_EC_P256_H_
#define CDH_CRYPTO_EC_P256_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/secret_bytes.h"
#include "nlohmann/json.hpp"

namespace cdh::crypto {

class EcP256PublicKey {
 public:
  // From a JWK object with kty "EC", crv "P-256", and base64url `x`, `y` of 32 bytes each
  // (other members, including `d`, are ignored). INVALID_ARGUMENT naming the member that is
  // missing or malformed, or when the point is not on the curve.
  static absl::StatusOr<EcP256PublicKey> FromJwk(const nlohmann::json& jwk);
  // From 32-byte big-endian affine coordinates. INVALID_ARGUMENT when not on the curve.
  static absl::StatusOr<EcP256PublicKey> FromCoordinates(std::string_view x, std::string_view y);

  EcP256PublicKey(EcP256PublicKey&&) noexcept;
  EcP256PublicKey& operator=(EcP256PublicKey&&) noexcept;
  ~EcP256PublicKey();

  // Verifies a raw 64-byte r||s ES256 signature over `message`.
  // PERMISSION_DENIED when the signature does not verify; INVALID_ARGUMENT when it is not 64 bytes.
  absl::Status VerifyEs256(std::string_view message, std::string_view signature) const;

  // 32-byte big-endian affine coordinates.
  std::string X() const;
  std::string Y() const;

  // Opaque OpenSSL handle (EVP_PKEY*), for other code of the crypto module only.
  void* native() const { return pkey_; }

 private:
  explicit EcP256PublicKey(void* pkey) : pkey_(pkey) {}
  void* pkey_ = nullptr;
};

class EcP256PrivateKey {
 public:
  // A fresh key from OpenSSL's CSPRNG. INTERNAL if generation fails.
  static absl::StatusOr<EcP256PrivateKey> Generate();
  // From a JWK with kty "EC", crv "P-256", x, y and d. INVALID_ARGUMENT naming the bad member,
  // or when d does not match (x, y).
  static absl::StatusOr<EcP256PrivateKey> FromJwk(const nlohmann::json& jwk);

  EcP256PrivateKey(EcP256PrivateKey&&) noexcept;
  EcP256PrivateKey& operator=(EcP256PrivateKey&&) noexcept;
  ~EcP256PrivateKey();

  // Raw 64-byte r||s signature over SHA-256(message). INTERNAL if signing fails.
  absl::StatusOr<std::string> SignEs256(std::string_view message) const;

  // {"kty":"EC","crv":"P-256","x":…,"y":…} (no other members).
  nlohmann::json ToPublicJwk() const;
  // The same with "d"; the returned object holds the private scalar: wipe it after use.
  SecretBytes ToPrivateJwkString(const nlohmann::json& extra_members) const;
  EcP256PublicKey PublicKey() const;

  void* native() const { return pkey_; }

 private:
  explicit EcP256PrivateKey(void* pkey) : pkey_(pkey) {}
  void* pkey_ = nullptr;
};

}  // namespace cdh::crypto

#endif  // CDH_CRYPTO_EC_P256_H_
