// Data wrapped under an AES-256 key the way envelope secrets (cdh-api.md §8.3), the `kbs` KMS
// provider and UnWrapKey annotation packets (§10) carry it: `wrap_type` "A256GCM" = AES-256-GCM
// with a 12-byte IV, the 16-byte tag appended to the ciphertext and no AAD; "A256CTR" =
// AES-256-CTR with a 16-byte IV and no authentication (upstream accepts it; ours only opens it).
// Upstream: guest-components' confidential-data-hub (envelope secrets and the image-layer key
// annotation packet); `wrap_type` names are matched exactly, upper case.
//
// Thread-safe (pure functions). Plaintexts are returned as SecretBytes; messages never hold key
// or plaintext bytes.
#ifndef CDH_CRYPTO_WRAPPED_DATA_H_
#define CDH_CRYPTO_WRAPPED_DATA_H_

#include <cstddef>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/secret_bytes.h"

namespace cdh::crypto {

enum class WrapType { kA256Gcm, kA256Ctr };

// "A256GCM" or "A256CTR", exactly. INVALID_ARGUMENT "`wrap_type` must be A256GCM or A256CTR"
// (with the sanitized value) otherwise.
absl::StatusOr<WrapType> ParseWrapType(std::string_view name);
std::string_view WrapTypeName(WrapType type);
// IV length, in bytes, the wrap type requires: 12 for A256GCM, 16 for A256CTR.
size_t WrapIvSize(WrapType type);

// Checks the IV length (and for A256GCM that `blob` holds at least the tag) without a key, so
// callers can refuse malformed input before they fetch the key. INVALID_ARGUMENT naming `what`.
absl::Status CheckWrappedData(WrapType type, std::string_view iv, std::string_view blob, std::string_view what);

// Opens `blob` (A256GCM: ciphertext || 16-byte tag; A256CTR: ciphertext) under the 32-byte `key`.
// INVALID_ARGUMENT (naming `what`) as CheckWrappedData, or for a key that is not 32 bytes;
// PERMISSION_DENIED "<what>: authentication failed (wrong key or tampered data)" when GCM does
// not authenticate (no partial plaintext is returned).
absl::StatusOr<SecretBytes> OpenWrappedData(WrapType type, const SecretBytes& key, std::string_view iv,
                                            std::string_view blob, std::string_view what);

}  // namespace cdh::crypto

#endif  // CDH_CRYPTO_WRAPPED_DATA_H_
