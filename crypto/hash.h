// Message digests and randomness. Thread-safe (pure functions over OpenSSL's EVP API).
#ifndef CDH_CRYPTO_HASH_H_
#define CDH_CRYPTO_HASH_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/secret_bytes.h"

namespace cdh::crypto {

enum class HashAlgorithm { kSha256, kSha384, kSha512 };

// Parses "sha256" | "sha384" | "sha512" (case-insensitive). INVALID_ARGUMENT otherwise.
absl::StatusOr<HashAlgorithm> ParseHashAlgorithm(std::string_view name);
std::string_view HashAlgorithmName(HashAlgorithm alg);
size_t HashSize(HashAlgorithm alg);  // bytes: 32, 48, 64

// Raw digest bytes (32/48/64 bytes).
std::string Hash(HashAlgorithm alg, std::string_view data);
std::string Sha256(std::string_view data);
// SHA-256 of secret input whose digest is itself secret (a KDF output): 32 bytes.
SecretBytes Sha256Secret(const SecretBytes& data);
std::string HexEncode(std::string_view bytes);

// StreamingHash: a digest over data fed in chunks (image layers are hashed while they stream).
// Move-only; not thread-safe.
class StreamingHash {
 public:
  explicit StreamingHash(HashAlgorithm alg);
  ~StreamingHash();
  StreamingHash(StreamingHash&&) noexcept;
  StreamingHash& operator=(StreamingHash&&) noexcept;
  StreamingHash(const StreamingHash&) = delete;
  StreamingHash& operator=(const StreamingHash&) = delete;

  void Update(std::string_view data);
  // Raw digest bytes of everything fed so far; the object is spent afterwards.
  std::string Finish();

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

// `size` bytes from OpenSSL's CSPRNG. INTERNAL if the generator fails.
absl::StatusOr<SecretBytes> RandomBytes(size_t size);

}  // namespace cdh::crypto

#endif  // CDH_CRYPTO_HASH_H_
