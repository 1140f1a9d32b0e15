// Streaming AES-256-CTR: the layer cipher of ocicrypt's AES_256_CTR_HMAC_SHA256
// (containers/ocicrypt, blockcipher/blockcipher_aes_ctr.go): a 16-byte initial counter block
// incremented as a 128-bit big-endian integer, any number of Update calls of any length.
// CTR is unauthenticated: callers pair it with HmacSha256 over the ciphertext.
// Move-only; not thread-safe (one stream per object). The expanded key lives in OpenSSL's
// cipher context and is wiped when the object is destroyed.
#ifndef CDH_CRYPTO_AES_CTR_STREAM_H_
#define CDH_CRYPTO_AES_CTR_STREAM_H_

#include <cstdint>
#include <span>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/secret_bytes.h"

namespace cdh::crypto {

class Aes256CtrStream {
 public:
  // INVALID_ARGUMENT for a key that is not 32 bytes or an initial counter that is not 16 bytes.
  static absl::StatusOr<Aes256CtrStream> New(const SecretBytes& key, std::string_view initial_counter);

  Aes256CtrStream(Aes256CtrStream&&) noexcept;
  Aes256CtrStream& operator=(Aes256CtrStream&&) noexcept;
  ~Aes256CtrStream();

  // Encrypts or decrypts (the same operation) `in` into `out`, which must hold in.size() bytes
  // and may alias `in` exactly. INVALID_ARGUMENT when `out` is too small; INTERNAL on an
  // OpenSSL failure.
  absl::Status Crypt(std::span<const uint8_t> in, std::span<uint8_t> out);

 private:
  explicit Aes256CtrStream(void* ctx) : ctx_(ctx) {}
  void* ctx_ = nullptr;  // EVP_CIPHER_CTX*
};

}  // namespace cdh::crypto

#endif  // CDH_CRYPTO_AES_CTR_STREAM_H_
