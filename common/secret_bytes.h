// SecretBytes: the one type that holds key material, plaintexts, tokens and passphrases.
//
// Contract: move-only. The bytes live in a std::vector whose allocator wipes (explicit_bzero)
// every block before it is freed — as tink's SecretData with its SanitizingAllocator — so the
// copy left behind when the buffer grows is wiped too, not only the final one; Clear() wipes
// at once. It has no operator<< and no implicit conversion to a string, so it cannot reach a
// log line by accident; raw bytes are reachable only through `Reveal()`, `RevealMutable()` and
// `RevealString()`, calls you can grep for. Not thread-safe (like std::string).
//
// Where our reach ends. Secret bytes that must pass through a library's own buffers are copied
// there, and those copies are not ours to free:
//  - protobuf/gRPC: a reply field (set_plaintext) and the serialised message in gRPC's and the
//    kernel's socket buffers; ttrpc frames are ours (SecretBytes up to the socket write);
//  - libcurl: the request headers (cookie, bearer token) and its connection buffers; OpenSSL's
//    TLS record buffers;
//  - nlohmann::json: string values of a parsed document (offline resource files, broker answers);
//  - fixed-size stack arrays of the crypto kernels (round keys, tweaks) and mmap'ed I/O buffers.
// At each such boundary the code hands the foreign copy to `WipeForeign` as soon as it is no
// longer needed; that is the only other place where memory is wiped. Copies the library makes
// internally (reallocation inside protobuf, curl, json) remain out of reach.
#ifndef CDH_COMMON_SECRET_BYTES_H_
#define CDH_COMMON_SECRET_BYTES_H_

#include <cstddef>
#include <cstdint>
#include <new>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cdh {

namespace secret_internal {
// Wipes `size` bytes at `data` in a way the compiler does not optimise away.
void Wipe(void* data, size_t size);
}  // namespace secret_internal

// An allocator that wipes every block before returning it to the heap. Stateless; usable with
// any standard container (tink-cc, util/secret_data_internal.h, SanitizingAllocator).
template <typename T>
struct SanitizingAllocator {
  using value_type = T;
  SanitizingAllocator() noexcept = default;
  template <typename U>
  SanitizingAllocator(const SanitizingAllocator<U>&) noexcept {}  // NOLINT: allocator rebind
  T* allocate(size_t n) { return static_cast<T*>(::operator new(n * sizeof(T))); }
  void deallocate(T* p, size_t n) noexcept {
    secret_internal::Wipe(p, n * sizeof(T));
    ::operator delete(p);
  }
  template <typename U>
  bool operator==(const SanitizingAllocator<U>&) const noexcept {
    return true;
  }
};

class SecretBytes {
 public:
  using Buffer = std::vector<uint8_t, SanitizingAllocator<uint8_t>>;

  SecretBytes() = default;
  explicit SecretBytes(size_t size) : bytes_(size, 0) {}
  explicit SecretBytes(std::span<const uint8_t> bytes) : bytes_(bytes.begin(), bytes.end()) {}
  // Copies `bytes`; the caller still owns its own copy.
  static SecretBytes FromString(std::string_view bytes) {
    SecretBytes s;
    s.Append(bytes);
    return s;
  }
  // Takes the secret out of a foreign std::string (a protobuf field, a library's answer): copies
  // it into a SecretBytes and wipes and clears the source.
  static SecretBytes TakeString(std::string& bytes) {
    SecretBytes s = FromString(bytes);
    WipeForeign(bytes);
    return s;
  }
  // The boundary wipe (see "Where our reach ends" above): wipes a buffer owned by a library that
  // held secret bytes. Clears the string after wiping it.
  static void WipeForeign(std::string& bytes) {
    secret_internal::Wipe(bytes.data(), bytes.size());
    bytes.clear();
  }
  static void WipeForeign(void* data, size_t size) { secret_internal::Wipe(data, size); }

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
  SecretBytes Clone() const { return SecretBytes(std::span<const uint8_t>(bytes_.data(), bytes_.size())); }

  size_t size() const { return bytes_.size(); }
  bool empty() const { return bytes_.empty(); }
  // Wipes the bytes now (the capacity is kept, wiped).
  void Clear() {
    if (!bytes_.empty()) secret_internal::Wipe(bytes_.data(), bytes_.size());
    bytes_.clear();
  }

  // Building a secret in place (JSON text, KDF input): growth goes through the wiping allocator.
  void Append(std::string_view bytes) { bytes_.insert(bytes_.end(), bytes.begin(), bytes.end()); }
  void Append(std::span<const uint8_t> bytes) { bytes_.insert(bytes_.end(), bytes.begin(), bytes.end()); }
  void push_back(char c) { bytes_.push_back(static_cast<uint8_t>(c)); }
  void reserve(size_t n) { bytes_.reserve(n); }
  // Shrinking wipes the bytes cut off.
  void resize(size_t n, char fill = '\0') {
    if (n < bytes_.size()) secret_internal::Wipe(bytes_.data() + n, bytes_.size() - n);
    bytes_.resize(n, static_cast<uint8_t>(fill));
  }

  // Raw access. Every use is a place where secret bytes leave this type.
  std::span<const uint8_t> Reveal() const { return {bytes_.data(), bytes_.size()}; }
  std::span<uint8_t> RevealMutable() { return {bytes_.data(), bytes_.size()}; }
  std::string_view RevealString() const {
    return std::string_view(reinterpret_cast<const char*>(bytes_.data()), bytes_.size());
  }

  // Constant-time comparison.
  bool Equals(std::span<const uint8_t> other) const;

 private:
  Buffer bytes_;
};

}  // namespace cdh

#endif  // CDH_COMMON_SECRET_BYTES_H_
