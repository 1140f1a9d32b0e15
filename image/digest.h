// Digest: a content digest "<algorithm>:<hex>" as used by OCI descriptors and the distribution
// API (opencontainers/image-spec, descriptor.md "Digests"). Parsed once, then a value.
//
// Accepted algorithms: sha256 (64 hex), sha384 (96 hex), sha512 (128 hex), lower-case hex only
// (image-spec requires lower case; oci-spec-rs accepts the same three).
// Copyable value type; thread-compatible.
#ifndef CDH_IMAGE_DIGEST_H_
#define CDH_IMAGE_DIGEST_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace cdh::image {

class Digest {
 public:
  // An empty digest (no algorithm); only useful as a placeholder before assignment.
  Digest() = default;

  // INVALID_ARGUMENT when `text` is not "<sha256|sha384|sha512>:<lower-case hex of the right
  // length>". The message quotes at most a sanitised prefix of `text`.
  static absl::StatusOr<Digest> Parse(std::string_view text);
  static Digest Sha256Of(std::span<const uint8_t> bytes);
  static Digest Sha256Of(std::string_view bytes);
  // The digest of `bytes` with algorithm `algorithm` ("sha256", "sha384", "sha512"; anything
  // else is treated as sha256 — callers pass the algorithm of a parsed Digest).
  static Digest Of(std::string_view algorithm, std::string_view bytes);

  const std::string& algorithm() const { return algorithm_; }  // "sha256"
  const std::string& hex() const { return hex_; }              // lower-case hex
  std::string String() const;                                  // "sha256:<hex>"
  bool empty() const { return algorithm_.empty(); }

  // True when `bytes` hash to this digest (with this digest's algorithm).
  bool Matches(std::string_view bytes) const;

  friend bool operator==(const Digest& a, const Digest& b) { return a.algorithm_ == b.algorithm_ && a.hex_ == b.hex_; }
  friend bool operator<(const Digest& a, const Digest& b) {
    return a.algorithm_ != b.algorithm_ ? a.algorithm_ < b.algorithm_ : a.hex_ < b.hex_;
  }

 private:
  Digest(std::string algorithm, std::string hex) : algorithm_(std::move(algorithm)), hex_(std::move(hex)) {}
  std::string algorithm_;
  std::string hex_;
};

// DigestHasher: computes a Digest over a stream fed in chunks (layer blobs are hashed while they
// are consumed, image-pull spec §3.5). Move-only; not thread-safe.
class DigestHasher {
 public:
  // `algorithm` as in Digest::algorithm(); anything other than sha384/sha512 is sha256.
  explicit DigestHasher(std::string_view algorithm = "sha256");
  ~DigestHasher();
  DigestHasher(DigestHasher&&) noexcept;
  DigestHasher& operator=(DigestHasher&&) noexcept;
  DigestHasher(const DigestHasher&) = delete;
  DigestHasher& operator=(const DigestHasher&) = delete;

  void Update(std::span<const uint8_t> bytes);
  void Update(std::string_view bytes);
  // The digest of everything fed so far. Call once; the hasher is spent afterwards.
  Digest Finish();
  // Bytes fed so far.
  uint64_t size() const { return size_; }

 private:
  std::string algorithm_;
  struct State;
  std::unique_ptr<State> state_;
  uint64_t size_ = 0;
};

}  // namespace cdh::image

#endif  // CDH_IMAGE_DIGEST_H_
