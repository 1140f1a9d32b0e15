// RSA keys for the KBS TEE key option RSA-OAEP-256: RSAES-OAEP with SHA-256 for both the hash and
// MGF1 and an empty label (KBS protocol 0.4.0, Trustee: confidential-containers/trustee
// kbs/docs/kbs_attestation_protocol.md; guest-components' client uses OpenSSL's default SHA-1 MGF1, a known bug we do
// not copy). The JWK form is {"n","e"} base64url without padding. Both classes are move-only and thread-safe for
// concurrent const use; the private key lives inside OpenSSL's EVP_PKEY and is never exported.
#ifndef CDH_CRYPTO_RSA_OAEP_H_
#define CDH_CRYPTO_RSA_OAEP_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/secret_bytes.h"

namespace cdh::crypto {

class RsaPublicKey {
 public:
  // From big-endian unsigned modulus `n` and exponent `e` (raw bytes, not base64).
  // INVALID_ARGUMENT when the modulus is under 2048 bits or over 8192, or e is even or < 3.
  static absl::StatusOr<RsaPublicKey> FromModulusExponent(std::string_view n, std::string_view e);

  RsaPublicKey(RsaPublicKey&&) noexcept;
  RsaPublicKey& operator=(RsaPublicKey&&) noexcept;
  ~RsaPublicKey();

  // RSAES-OAEP-SHA256/MGF1-SHA256 ciphertext of `plaintext` (modulus-size bytes).
  absl::StatusOr<std::string> EncryptOaepSha256(const SecretBytes& plaintext) const;
  // The DER SubjectPublicKeyInfo. INTERNAL if OpenSSL cannot encode it.
  absl::StatusOr<std::string> SpkiDer() const;

 private:
  explicit RsaPublicKey(void* pkey) : pkey_(pkey) {}
  void* pkey_ = nullptr;
};

class RsaPrivateKey {
 public:
  // A fresh key of `bits` (2048..8192) with e = 65537. INTERNAL if generation fails.
  static absl::StatusOr<RsaPrivateKey> Generate(int bits);
  // From a PEM private key (PKCS#1 "RSA PRIVATE KEY" or PKCS#8 "PRIVATE KEY"). INVALID_ARGUMENT
  // when it does not parse or is not RSA.
  static absl::StatusOr<RsaPrivateKey> FromPem(const SecretBytes& pem);

  RsaPrivateKey(RsaPrivateKey&&) noexcept;
  RsaPrivateKey& operator=(RsaPrivateKey&&) noexcept;
  ~RsaPrivateKey();

  // Big-endian unsigned modulus and public exponent (no leading zero bytes).
  std::string Modulus() const;
  std::string PublicExponent() const;
  size_t ModulusSize() const;  // bytes

  // PERMISSION_DENIED when the ciphertext does not decrypt (wrong key, tampered, wrong padding);
  // INVALID_ARGUMENT when it is not modulus-size bytes.
  absl::StatusOr<SecretBytes> DecryptOaepSha256(std::string_view ciphertext) const;

 private:
  explicit RsaPrivateKey(void* pkey) : pkey_(pkey) {}
  void* pkey_ = nullptr;
};

}  // namespace cdh::crypto

#endif  // CDH_CRYPTO_RSA_OAEP_H_
