// XtsSectorCipher: AES-XTS (IEEE 1619) over runs of equally sized sectors, keyed once.
//
// This is the inner loop of the userspace LUKS2 data path (cdh-api.md §11). The key
// schedule runs once in New(); each sector then only sets its 16-byte tweak and processes the
// sector, so a run of N sectors costs N tweak setups and no key expansion.
//
// Implementations, chosen in New() by what the CPU supports (cpuid, and XGETBV for the OS's
// support of the vector state):
// - kVaesAvx2: our kernel on 256-bit VAES + VPCLMULQDQ (crypto/xts_vaes.h), 16 blocks in flight
//   and tweaks by carry-less multiplication;
// - otherwise OpenSSL's AES-XTS (128-bit AES-NI in Debian's OpenSSL 3.0), reached through the
//   provider's dispatch table when possible (kOpenSslProvider, skipping EVP's per-call parameter
//   lookups) and through EVP otherwise (kOpenSslEvp). OpenSSL is the fallback and the reference
//   the tests compare the kernel against.
// All give identical bytes.
//
// Tweak convention: sector i of a call (0-based) uses the 128-bit little-endian tweak
//   first_tweak + i * tweak_step
// which is dm-crypt's/LUKS2's `plain64` IV when `first_tweak` counts 512-byte units and
// `tweak_step` = sector_size / 512 (cryptsetup's LUKS2 does not set iv_large_sectors).
//
// Security: the key schedule lives in a SecretBytes (kernel) or inside OpenSSL's cipher context
// (freed and wiped by OpenSSL) and goes with the object; no raw key bytes are kept.
// Move-only (owns the contexts); NOT thread-safe: use one object per thread (storage::XtsEngine
// does that).
#ifndef CDH_CRYPTO_XTS_CIPHER_H_
#define CDH_CRYPTO_XTS_CIPHER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/secret_bytes.h"

namespace cdh::crypto {

enum class XtsDirection { kEncrypt, kDecrypt };

enum class XtsImplementation { kVaesAvx2, kOpenSslProvider, kOpenSslEvp };

class XtsSectorCipher {
 public:
  // `key`: 64 bytes (AES-256-XTS, LUKS2 key_size 512 bits) or 32 bytes (AES-128-XTS, 256 bits);
  // the two halves must differ (OpenSSL refuses equal halves, as IEEE 1619-2018 asks).
  // INVALID_ARGUMENT for another key size or equal halves; INTERNAL if OpenSSL fails.
  // Picks the fastest implementation this CPU runs (see above).
  static absl::StatusOr<std::unique_ptr<XtsSectorCipher>> New(const SecretBytes& key, XtsDirection direction);
  // As New(), but never the VAES kernel: the OpenSSL fallback a CPU without VAES gets, for tests
  // and for the benchmark's same-process reference. Same codes.
  static absl::StatusOr<std::unique_ptr<XtsSectorCipher>> NewOpenSslForTest(const SecretBytes& key,
                                                                            XtsDirection direction);

  ~XtsSectorCipher();
  XtsSectorCipher(const XtsSectorCipher&) = delete;
  XtsSectorCipher& operator=(const XtsSectorCipher&) = delete;

  // Encrypts or decrypts `in` into `out` (same size; may be the same memory, i.e. in place).
  // `sector_size` in bytes: a multiple of 16 in [16, 1 MiB]; `in.size()` a multiple of it.
  // INVALID_ARGUMENT for bad sizes; INTERNAL if OpenSSL fails (output then unspecified; the
  // VAES kernel cannot fail).
  absl::Status CryptSectors(std::span<const uint8_t> in, std::span<uint8_t> out, size_t sector_size,
                            uint64_t first_tweak, uint64_t tweak_step);

  XtsDirection direction() const { return direction_; }
  // Which implementation New() chose; exposed for tests and the benchmark.
  XtsImplementation implementation() const;
  // True when sectors go straight to the provider's AES-XTS (see xts_cipher.cc).
  bool uses_provider_dispatch() const { return implementation() == XtsImplementation::kOpenSslProvider; }

 private:
  struct State;
  static absl::StatusOr<std::unique_ptr<XtsSectorCipher>> NewImpl(const SecretBytes& key, XtsDirection direction,
                                                                  bool allow_vaes);
  XtsSectorCipher(std::unique_ptr<State> state, XtsDirection direction);
  std::unique_ptr<State> state_;
  XtsDirection direction_;
};

// Name of `impl` for logs and benchmark output ("vaes-avx2", "openssl-provider", "openssl-evp").
const char* XtsImplementationName(XtsImplementation impl);

// Reference loop for benchmarks and tests: the same result as XtsSectorCipher::CryptSectors, but
// it creates and keys a fresh cipher context for every sector (what a naive port does). Slow on
// purpose; never use it on the data path.
absl::Status XtsCryptSectorsRekeyingEachSectorForTest(const SecretBytes& key, XtsDirection direction,
                                                      std::span<const uint8_t> in, std::span<uint8_t> out,
                                                      size_t sector_size, uint64_t first_tweak, uint64_t tweak_step);

}  // namespace cdh::crypto

#endif  // CDH_CRYPTO_XTS_CIPHER_H_
