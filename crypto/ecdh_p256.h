// ECDH on P-256 and the JWE Concat KDF, as ECDH-ES+A256KW uses them
// (KBS protocol 0.4.0, Trustee: confidential-containers/trustee kbs/docs/kbs_attestation_protocol.md; RFC 7518 §4.6.2).
// Thread-safe (pure functions). Shared secrets and derived keys are SecretBytes.
#ifndef CDH_CRYPTO_ECDH_P256_H_
#define CDH_CRYPTO_ECDH_P256_H_

#include <string_view>

#include "absl/status/statusor.h"
#include "common/secret_bytes.h"
#include "crypto/ec_p256.h"

namespace cdh::crypto {

// Z: the 32-byte x-coordinate of priv * peer. INTERNAL if OpenSSL fails (the peer key was
// already validated on the curve when it was built).
absl::StatusOr<SecretBytes> EcdhP256(const EcP256PrivateKey& priv, const EcP256PublicKey& peer);

// One-round Concat KDF with SHA-256, empty PartyUInfo and PartyVInfo:
//   SHA-256(be32(1) || Z || be32(len(alg)) || alg || be32(0) || be32(0) || be32(keydatalen_bits))
// `keydatalen_bits` must be 256 or less (one round); INVALID_ARGUMENT otherwise. Returns
// keydatalen_bits / 8 bytes.
absl::StatusOr<SecretBytes> ConcatKdfSha256(const SecretBytes& z, std::string_view algorithm_id,
                                            size_t keydatalen_bits);

}  // namespace cdh::crypto

#endif  // CDH_CRYPTO_ECDH_P256_H_
