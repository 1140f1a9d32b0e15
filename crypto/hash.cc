#include "crypto/hash.h"

#include <cstdlib>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "absl/strings/escaping.h"
#include "common/strings.h"
#include "crypto/evp_algorithms.h"
#include "crypto/openssl_util.h"

namespace cdh::crypto {

absl::StatusOr<HashAlgorithm> ParseHashAlgorithm(std::string_view name) {
  std::string lower = AsciiToLower(name);
  if (lower == "sha256") return HashAlgorithm::kSha256;
  if (lower == "sha384") return HashAlgorithm::kSha384;
  if (lower == "sha512") return HashAlgorithm::kSha512;
  return absl::InvalidArgumentError(
      StrCat("unsupported hash algorithm `", name, "` (expected sha256, sha384 or sha512)"));
}

std::string_view HashAlgorithmName(HashAlgorithm alg) {
  switch (alg) {
    case HashAlgorithm::kSha256:
      return "sha256";
    case HashAlgorithm::kSha384:
      return "sha384";
    case HashAlgorithm::kSha512:
      return "sha512";
  }
  return "sha384";
}

size_t HashSize(HashAlgorithm alg) {
  switch (alg) {
    case HashAlgorithm::kSha256:
      return 32;
    case HashAlgorithm::kSha384:
      return 48;
    case HashAlgorithm::kSha512:
      return 64;
  }
  return 0;
}

namespace {

// The fetched implementation (evp_algorithms.h), or OpenSSL's legacy handle should the fetch
// have failed: hashing has no error path, and the legacy handle resolves the same algorithm.
const EVP_MD* MdFor(HashAlgorithm alg) {
  switch (alg) {
    case HashAlgorithm::kSha256:
      return Sha256Md() != nullptr ? Sha256Md() : EVP_sha256();
    case HashAlgorithm::kSha384:
      return Sha384Md() != nullptr ? Sha384Md() : EVP_sha384();
    case HashAlgorithm::kSha512:
      return Sha512Md() != nullptr ? Sha512Md() : EVP_sha512();
  }
  return EVP_sha512();
}

}  // namespace

std::string Hash(HashAlgorithm alg, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out, &len, MdFor(alg), nullptr);
  return std::string(reinterpret_cast<char*>(out), len);
}

struct StreamingHash::Ctx {
  EvpMdCtxPtr md;
};

StreamingHash::StreamingHash(HashAlgorithm alg) : ctx_(std::make_unique<Ctx>()) {
  ctx_->md.reset(EVP_MD_CTX_new());
  // Allocation failure of a digest context is not recoverable input handling: it is OOM.
  if (ctx_->md == nullptr || EVP_DigestInit_ex(ctx_->md.get(), MdFor(alg), nullptr) != 1) abort();
}
StreamingHash::~StreamingHash() = default;
StreamingHash::StreamingHash(StreamingHash&&) noexcept = default;
StreamingHash& StreamingHash::operator=(StreamingHash&&) noexcept = default;

void StreamingHash::Update(std::string_view data) {
  if (!data.empty()) EVP_DigestUpdate(ctx_->md.get(), data.data(), data.size());
}

std::string StreamingHash::Finish() {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_->md.get(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string Sha256(std::string_view data) { return Hash(HashAlgorithm::kSha256, data); }

SecretBytes Sha256Secret(const SecretBytes& data) {
  SecretBytes out(32);
  unsigned int len = 0;
  EVP_Digest(data.Reveal().data(), data.size(), out.RevealMutable().data(), &len, MdFor(HashAlgorithm::kSha256),
             nullptr);
  return out;
}

std::string HexEncode(std::string_view bytes) {
  return absl::BytesToHexString(absl::string_view(bytes.data(), bytes.size()));
}

absl::StatusOr<SecretBytes> RandomBytes(size_t size) {
  SecretBytes out(size);
  if (size > 0 && RAND_bytes(out.RevealMutable().data(), static_cast<int>(size)) != 1) {
    return OpenSslError("random generator failed");
  }
  return out;
}

}  // namespace cdh::crypto
