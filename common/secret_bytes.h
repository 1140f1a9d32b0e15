// SecretBytes: the one type that holds key material, plaintexts and tokens.
//
// Contract: move-only; the buffer is wiped (explicit_bzero) when the object is destroyed,
// assigned over or cleared. It has no operator<< and no implicit conversion to a string, so it
// cannot reach a log line by accident; raw bytes are reachable only through `Reveal()` and
// `RevealString()`, calls you can grep for. Not thread-safe (like std::string).
#ifndef CDH_COMMON_SECRET_BYTES_H_
#define CDH_COMMON_SECRET_BYTES_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cdh {

// Wipes `size` bytes at `data` in a way the compiler does not optimise away.
void SecureWipe(void* data, size_t size);

class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(size_t size) : bytes_(size, 0) {}
  explicit SecretBytes(std::span<const uint8_t> bytes) : bytes_(bytes.begin(), bytes.end()) {}
  // Copies `bytes`; the caller still owns (and should wipe) its own copy.
  static SecretBytes FromString(std::string_view bytes) {
    return SecretBytes(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()),
                                                bytes.size()));
  }
  // Takes ownership of `bytes` and wipes the source string.
  static SecretBytes TakeString(std::string& bytes) {
    SecretBytes s = FromString(bytes);
    SecureWipe(bytes.data(), bytes.size());
    bytes.clear();
    return s;
  }

  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  SecretBytes(SecretBytes&& other) noexcept : bytes_(std::move(other.bytes_)) { other.bytes_.clear(); }
  SecretBytes& operator=(SecretBytes&& other) noexcept {
    if (this != &other) {
      Clear();
      bytes_ = std::move(other.bytes_);
      other.bytes_.clear();
    }
    return *this;
  }
  ~SecretBytes() { Clear(); }

  // An explicit deep copy, for the few places that need two owners.
  SecretBytes Clone() const { return SecretBytes(std::span<const uint8_t>(bytes_)); }

  size_t size() const { return bytes_.size(); }
  bool empty() const { return bytes_.empty(); }
  void Clear() {
    if (!bytes_.empty()) SecureWipe(bytes_.data(), bytes_.size());
    bytes_.clear();
  }

  // Raw access. Every use is a place where secret bytes leave this type.
  std::span<const uint8_t> Reveal() const { return bytes_; }
  std::span<uint8_t> RevealMutable() { return bytes_; }
  std::string_view RevealString() const {
    return std::string_view(reinterpret_cast<const char*>(bytes_.data()), bytes_.size());
  }

  // Constant-time comparison.
  bool Equals(std::span<const uint8_t> other) const;

 private:
  std::vector<uint8_t> bytes_;
};

}  // namespace cdh

#endif  // CDH_COMMON_SECRET_BYTES_H_
