// RSA public keys as DER SubjectPublicKeyInfo and RSASSA-PKCS1-v1_5 with SHA-256 verification:
// the TPM attestation key of the `tpm` evidence (`ak_public`) and the signature of TPM quotes
// and az-*-vtpm quotes (attesters.md §2.6, §7). Thread-safe (pure functions).
#ifndef CDH_CRYPTO_RSA_PKCS1_H_
#define CDH_CRYPTO_RSA_PKCS1_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace cdh::crypto {

// DER SubjectPublicKeyInfo (rsaEncryption) for big-endian modulus `n` and exponent `e`.
// INVALID_ARGUMENT when the modulus is under 2048 or over 8192 bits or e is even or < 3.
absl::StatusOr<std::string> RsaSpkiFromModulusExponent(std::string_view n, std::string_view e);

// Verifies an RSASSA-PKCS1-v1_5 SHA-256 signature over `message` with the RSA key in DER SPKI
// `spki_der`. INVALID_ARGUMENT when the key does not parse or is not RSA; PERMISSION_DENIED when
// the signature does not verify.
absl::Status VerifyRsaPkcs1Sha256(std::string_view spki_der, std::string_view message, std::string_view signature);

}  // namespace cdh::crypto

#endif  // CDH_CRYPTO_RSA_PKCS1_H_
