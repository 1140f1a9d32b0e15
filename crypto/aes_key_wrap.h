// AES-256 key wrap (RFC 3394, default IV), the "A256KW" of ECDH-ES+A256KW
// (KBS protocol 0.4.0, Trustee: confidential-containers/trustee kbs/docs/kbs_attestation_protocol.md). Thread-safe
// (pure functions).
#ifndef CDH_CRYPTO_AES_KEY_WRAP_H_
#define CDH_CRYPTO_AES_KEY_WRAP_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/secret_bytes.h"

namespace cdh::crypto {

// Wraps `key` (16..4096 bytes, a multiple of 8) under the 32-byte `kek`; returns key.size()+8
// bytes. INVALID_ARGUMENT for bad sizes.
absl::StatusOr<std::string> Aes256KeyWrap(const SecretBytes& kek, const SecretBytes& key);
// Unwraps `wrapped` (24..4104 bytes, a multiple of 8). INVALID_ARGUMENT for bad sizes;
// PERMISSION_DENIED when the integrity check fails (wrong KEK or tampered input).
absl::StatusOr<SecretBytes> Aes256KeyUnwrap(const SecretBytes& kek, std::string_view wrapped);

}  // namespace cdh::crypto

#endif  // CDH_CRYPTO_AES_KEY_WRAP_H_
