// Incremental HMAC-SHA-256 (RFC 2104), for the ocicrypt layer cipher AES_256_CTR_HMAC_SHA256
// (containers/ocicrypt, blockcipher/blockcipher_aes_ctr.go: the MAC over the whole ciphertext).
// Move-only; not thread-safe (one stream per object).
#ifndef CDH_CRYPTO_HMAC_SHA256_H_
#define CDH_CRYPTO_HMAC_SHA256_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/secret_bytes.h"

namespace cdh::crypto {

inline constexpr size_t kHmacSha256Size = 32;  // bytes

class HmacSha256 {
 public:
  // INVALID_ARGUMENT for an empty key; INTERNAL if OpenSSL cannot set up the MAC.
  static absl::StatusOr<HmacSha256> New(const SecretBytes& key);

  HmacSha256(HmacSha256&&) noexcept;
  HmacSha256& operator=(HmacSha256&&) noexcept;
  ~HmacSha256();

  // INTERNAL if OpenSSL fails; FAILED_PRECONDITION after Final/Verify.
  absl::Status Update(std::span<const uint8_t> data);
  // The 32-byte tag; the object cannot be updated afterwards. FAILED_PRECONDITION when called twice.
  absl::StatusOr<std::string> Final();
  // Final() compared in constant time with `expected`. DATA_LOSS when they differ (any length).
  absl::Status Verify(std::string_view expected);

 private:
  HmacSha256(void* mac, void* ctx) : mac_(mac), ctx_(ctx) {}
  void Free();
  void* mac_ = nullptr;  // EVP_MAC*
  void* ctx_ = nullptr;  // EVP_MAC_CTX*
  bool finished_ = false;
};

// Constant-time equality of two byte strings (false when the lengths differ).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace cdh::crypto

#endif  // CDH_CRYPTO_HMAC_SHA256_H_
