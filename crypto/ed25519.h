// Ed25519 signature verification, for the KBS admin bearer JWT (alg "EdDSA"; the KBS
// admin API, Trustee kbs/src/admin/). Thread-safe (pure functions).
#ifndef CDH_CRYPTO_ED25519_H_
#define CDH_CRYPTO_ED25519_H_

#include <string_view>

#include "absl/status/status.h"

namespace cdh::crypto {

// Verifies the 64-byte `signature` over `message` with the Ed25519 public key in `spki_pem`
// ("-----BEGIN PUBLIC KEY-----" SubjectPublicKeyInfo).
// INVALID_ARGUMENT when the PEM is not an Ed25519 public key or the signature is not 64 bytes;
// PERMISSION_DENIED when the signature does not verify.
absl::Status VerifyEd25519(std::string_view spki_pem, std::string_view message, std::string_view signature);

}  // namespace cdh::crypto

#endif  // CDH_CRYPTO_ED25519_H_
