#include "image/digest.h"

#include "common/strings.h"
#include "crypto/hash.h"

namespace cdh::image {
namespace {

crypto::HashAlgorithm AlgorithmFor(std::string_view name) {
  if (name == "sha384") return crypto::HashAlgorithm::kSha384;
  if (name == "sha512") return crypto::HashAlgorithm::kSha512;
  return crypto::HashAlgorithm::kSha256;
}

}  // namespace

absl::StatusOr<Digest> Digest::Parse(std::string_view text) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    return absl::InvalidArgumentError(StrCat("malformed digest `", Sanitize(text, 80), "`: no algorithm"));
  }
  std::string_view alg = text.substr(0, colon);
  std::string_view hex = text.substr(colon + 1);
  size_t want = 0;
  if (alg == "sha256")
    want = 64;
  else if (alg == "sha384")
    want = 96;
  else if (alg == "sha512")
    want = 128;
  else {
    return absl::InvalidArgumentError(
        StrCat("unsupported digest algorithm `", Sanitize(alg, 16), "` (sha256, sha384 or sha512)"));
  }
  if (hex.size() != want) {
    return absl::InvalidArgumentError(
        StrCat("malformed digest `", Sanitize(text, 80), "`: ", alg, " needs ", want, " hex characters"));
  }
  for (char c : hex) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return absl::InvalidArgumentError(StrCat("malformed digest `", Sanitize(text, 80), "`: not lower-case hex"));
    }
  }
  return Digest(std::string(alg), std::string(hex));
}

Digest Digest::Sha256Of(std::span<const uint8_t> bytes) {
  return Sha256Of(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

Digest Digest::Sha256Of(std::string_view bytes) { return Of("sha256", bytes); }

Digest Digest::Of(std::string_view algorithm, std::string_view bytes) {
  crypto::HashAlgorithm alg = AlgorithmFor(algorithm);
  return Digest(std::string(crypto::HashAlgorithmName(alg)), crypto::HexEncode(crypto::Hash(alg, bytes)));
}

std::string Digest::String() const { return empty() ? std::string() : StrCat(algorithm_, ":", hex_); }

bool Digest::Matches(std::string_view bytes) const { return !empty() && Of(algorithm_, bytes) == *this; }

struct DigestHasher::State {
  explicit State(crypto::HashAlgorithm alg) : hash(alg) {}
  crypto::StreamingHash hash;
};

DigestHasher::DigestHasher(std::string_view algorithm)
    : algorithm_(crypto::HashAlgorithmName(AlgorithmFor(algorithm))),
      state_(std::make_unique<State>(AlgorithmFor(algorithm))) {}
DigestHasher::~DigestHasher() = default;
DigestHasher::DigestHasher(DigestHasher&&) noexcept = default;
DigestHasher& DigestHasher::operator=(DigestHasher&&) noexcept = default;

void DigestHasher::Update(std::span<const uint8_t> bytes) {
  Update(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

void DigestHasher::Update(std::string_view bytes) {
  size_ += bytes.size();
  state_->hash.Update(bytes);
}

Digest DigestHasher::Finish() {
  auto parsed = Digest::Parse(StrCat(algorithm_, ":", crypto::HexEncode(state_->hash.Finish())));
  return parsed.ok() ? *parsed : Digest();
}

}  // namespace cdh::image
