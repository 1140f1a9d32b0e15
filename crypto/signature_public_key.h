// SignaturePublicKey: a PEM SubjectPublicKeyInfo public key that verifies detached signatures,
// for image signatures in the sigstore (cosign) format.
//
// Accepted keys, as sigstore-rs 0.13 accepts them for cosign's `keyPath`/`keyData`
// (sigstore/sigstore-rs, src/cosign/verification_constraint/public_key_verifier.rs):
//   ECDSA P-256 with SHA-256 (cosign's default), ECDSA P-384 with SHA-384 — ASN.1 DER
//   ECDSA-Sig-Value signatures; Ed25519 (64-byte signatures); RSA (2048..8192 bits) with
//   RSASSA-PKCS1-v1_5 and SHA-256.
// Move-only; thread-safe for concurrent const use.
#ifndef CDH_CRYPTO_SIGNATURE_PUBLIC_KEY_H_
#define CDH_CRYPTO_SIGNATURE_PUBLIC_KEY_H_

#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace cdh::crypto {

class SignaturePublicKey {
 public:
  enum class Algorithm { kEcdsaP256Sha256, kEcdsaP384Sha384, kEd25519, kRsaPkcs1Sha256 };

  // From the first "-----BEGIN PUBLIC KEY-----" block of `pem` (text before it is ignored).
  // INVALID_ARGUMENT when there is no such block, it does not parse, or the key is of a kind
  // not listed above (named in the message: e.g. an EC key on another curve).
  static absl::StatusOr<SignaturePublicKey> FromPem(std::string_view pem);

  SignaturePublicKey(SignaturePublicKey&&) noexcept;
  SignaturePublicKey& operator=(SignaturePublicKey&&) noexcept;
  ~SignaturePublicKey();

  // Verifies `signature` over the exact bytes of `message` (hashed inside as the algorithm
  // says). PERMISSION_DENIED when it does not verify — also for a signature that is not valid
  // DER or has the wrong length, since both are simply "not a signature by this key".
  absl::Status Verify(std::string_view message, std::string_view signature) const;

  Algorithm algorithm() const { return algorithm_; }
  // "ECDSA P-256", "ECDSA P-384", "Ed25519", "RSA".
  std::string_view AlgorithmName() const;

 private:
  SignaturePublicKey(void* pkey, Algorithm algorithm) : pkey_(pkey), algorithm_(algorithm) {}
  void* pkey_ = nullptr;  // EVP_PKEY*
  Algorithm algorithm_;
};

}  // namespace cdh::crypto

#endif  // CDH_CRYPTO_SIGNATURE_PUBLIC_KEY_H_
