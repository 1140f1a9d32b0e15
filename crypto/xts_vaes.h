// XtsVaesKernel: AES-XTS (IEEE 1619) over whole sectors with 256-bit VAES and VPCLMULQDQ.
//
// The vectorised kernel behind crypto::XtsSectorCipher (xts_cipher.h), used when the CPU and
// the OS support it (CpuSupportsVaesAvx2()); XtsSectorCipher falls back to OpenSSL otherwise,
// and OpenSSL stays the reference the tests compare against. Internal to crypto/: the data path
// reaches it only through XtsSectorCipher.
//
// How it is fast (the figures are in storage/bench/RESULTS.md):
// - 16 blocks (eight 256-bit registers of two blocks each) in flight per round instruction, so
//   the AES units never wait on the 4-cycle latency of one round; OpenSSL 3.0's AES-XTS issues
//   one 128-bit block per instruction.
// - The tweaks of a run of blocks come from carry-less multiplication: each register's pair of
//   tweaks is advanced by alpha^16 in one step (shift by 16 plus a VPCLMULQDQ reduction by
//   x^128 = x^7 + x^2 + x + 1), independently of the others, instead of one doubling per block.
// - The encrypted sector tweaks (AES with the second key half) of up to 8 sectors are computed
//   together, which hides their latency on 512-byte sectors.
// - The key schedules (data key: encryption or decryption rounds; tweak key: encryption rounds)
//   are expanded once, in New(), into broadcast 256-bit round keys.
//
// The code follows the same construction as the Linux kernel's AES-XTS for x86
// (arch/x86/crypto/aes-xts-avx-x86_64.S, "_next_tweakvec"), written with compiler intrinsics
// and per-function target attributes, so the rest of the build stays generic x86-64.
//
// Security: the round keys live in a SecretBytes (wiped with the object); the expansion wipes
// its stack copies. Values left in vector registers or spilled by the compiler during a call are
// beyond what we control from C++. Move-only; CryptSectors() is const and keeps no state, so one
// object may be used from several threads at once.
#ifndef CDH_CRYPTO_XTS_VAES_H_
#define CDH_CRYPTO_XTS_VAES_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "common/secret_bytes.h"

namespace cdh::crypto::internal {

// What cpuid and XGETBV report about the features the kernels need.
struct XtsCpuFeatures {
  bool aesni = false;   // AES-NI and PCLMULQDQ (128-bit)
  bool avx2 = false;    // AVX2, and the OS saves ymm state (XCR0 bits 1 and 2)
  bool vaes = false;    // VAES and VPCLMULQDQ (with AVX2: 256-bit forms)
  bool avx512 = false;  // AVX512F, and the OS saves zmm state (XCR0 bits 5-7); reported only
};

// Read once per process.
const XtsCpuFeatures& DetectXtsCpuFeatures();

// True when XtsVaesKernel can run here: AES-NI, PCLMULQDQ, AVX2, VAES, VPCLMULQDQ and OS
// support for ymm state.
bool CpuSupportsVaesAvx2();

class XtsVaesKernel {
 public:
  // `key`: 64 bytes (AES-256-XTS) or 32 bytes (AES-128-XTS), data-key half first, then the tweak
  // key half (IEEE 1619 Key1 || Key2). Returns nullptr when the key size is neither or the CPU
  // lacks the features (CpuSupportsVaesAvx2()); the caller checks the key halves beforehand.
  static std::unique_ptr<XtsVaesKernel> New(std::span<const uint8_t> key, bool decrypt);

  XtsVaesKernel(const XtsVaesKernel&) = delete;
  XtsVaesKernel& operator=(const XtsVaesKernel&) = delete;

  // Encrypts or decrypts `sectors` sectors of `sector_size` bytes (a non-zero multiple of 16)
  // from `in` to `out`, which are the same memory or do not overlap. Sector i (0-based) uses the
  // plain64 tweak `first_tweak + i * tweak_step` (128-bit little-endian, high half zero; the
  // addition wraps modulo 2^64, like dm-crypt's 64-bit sector counter).
  void CryptSectors(const uint8_t* in, uint8_t* out, size_t sectors, size_t sector_size, uint64_t first_tweak,
                    uint64_t tweak_step) const;

 private:
  XtsVaesKernel(SecretBytes round_keys, int rounds, bool decrypt);
  // (rounds + 1) data round keys, then (rounds + 1) tweak round keys, each broadcast to 32 bytes.
  const SecretBytes round_keys_;
  const int rounds_;  // 10 (AES-128) or 14 (AES-256)
  const bool decrypt_;
};

}  // namespace cdh::crypto::internal

#endif  // CDH_CRYPTO_XTS_VAES_H_
