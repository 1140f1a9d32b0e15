// Message digests and randomness. Thread-safe (pure functions over OpenSSL's EVP API).
#ifndef CDH_CRYPTO_HASH_H_
#define CDH_CRYPTO_HASH_H_

#include <cstdint>
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
std::string HexEncode(std::string_view bytes);

// `size` bytes from OpenSSL's CSPRNG. INTERNAL if the generator fails.
absl::StatusOr<SecretBytes> RandomBytes(size_t size);

}  // namespace cdh::crypto

#endif  // CDH_CRYPTO_HASH_H_
