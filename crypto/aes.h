// AES-256-GCM and AES-256-CTR, as the envelope secrets (cdh-api.md §8.3), the UnWrapKey `kbs`
// provider (§10) and the KBS resource JWE (kbs-protocol.md §3.4) use them.
// Thread-safe (pure functions); plaintexts are returned as SecretBytes.
#ifndef CDH_CRYPTO_AES_H_
#define CDH_CRYPTO_AES_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/secret_bytes.h"

namespace cdh::crypto {

inline constexpr size_t kAes256KeySize = 32;  // bytes
inline constexpr size_t kGcmTagSize = 16;     // bytes

struct GcmCiphertext {
  std::string ciphertext;  // same length as the plaintext
  std::string tag;         // 16 bytes
};

// AES-256-GCM with a detached 16-byte tag. `iv` of 1..128 bytes (12 recommended).
// INVALID_ARGUMENT for a key that is not 32 bytes, an empty IV or a tag that is not 16 bytes;
// PERMISSION_DENIED when authentication fails (no plaintext is returned then).
absl::StatusOr<SecretBytes> Aes256GcmDecrypt(const SecretBytes& key, std::string_view iv, std::string_view ciphertext,
                                             std::string_view tag, std::string_view aad);
absl::StatusOr<GcmCiphertext> Aes256GcmEncrypt(const SecretBytes& key, std::string_view iv, std::string_view plaintext,
                                               std::string_view aad);

// AES-256-CTR (no authentication) with a 16-byte initial counter block.
// INVALID_ARGUMENT for a key that is not 32 bytes or an IV that is not 16 bytes.
absl::StatusOr<SecretBytes> Aes256CtrCrypt(const SecretBytes& key, std::string_view iv, std::string_view input);

}  // namespace cdh::crypto

#endif  // CDH_CRYPTO_AES_H_
