#include "crypto/xts_vaes.h"

#include <cpuid.h>
#include <immintrin.h>

#include <cstring>
#include <utility>

// Every function that uses AES/VAES/VPCLMULQDQ/AVX2 intrinsics carries this attribute; nothing
// else in the build is compiled for these extensions, and they run only after
// CpuSupportsVaesAvx2() said yes.
#define CDH_XTS_VAES_TARGET __attribute__((target("aes,pclmul,avx2,vaes,vpclmulqdq")))
#define CDH_XTS_VAES_INLINE inline __attribute__((always_inline, target("aes,pclmul,avx2,vaes,vpclmulqdq")))

namespace cdh::crypto::internal {
namespace {

constexpr size_t kKeyStride = 32;     // bytes per broadcast round key
constexpr size_t kMaxRoundKeys = 15;  // AES-256: 14 rounds + 1
constexpr int kBlocksInFlight = 16;   // eight ymm registers of two 16-byte blocks
constexpr int kTweakBatch = 8;        // sector tweaks encrypted together

uint64_t ReadXcr0() {
  uint32_t eax = 0, edx = 0;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<uint64_t>(edx) << 32) | eax;
}

XtsCpuFeatures Detect() {
  XtsCpuFeatures f;
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid(1, &a, &b, &c, &d) == 0) return f;
  const bool aes = (c & (1u << 25)) != 0, pclmul = (c & (1u << 1)) != 0;
  const bool osxsave = (c & (1u << 27)) != 0, avx = (c & (1u << 28)) != 0;
  f.aesni = aes && pclmul;
  if (!osxsave || !avx) return f;
  const uint64_t xcr0 = ReadXcr0();
  const bool ymm_state = (xcr0 & 0x6) == 0x6;
  const bool zmm_state = (xcr0 & 0xe6) == 0xe6;
  if (__get_cpuid_max(0, nullptr) < 7) return f;
  __cpuid_count(7, 0, a, b, c, d);
  f.avx2 = ymm_state && (b & (1u << 5)) != 0;
  f.vaes = f.avx2 && (c & (1u << 9)) != 0 && (c & (1u << 10)) != 0;
  f.avx512 = zmm_state && (b & (1u << 16)) != 0;
  return f;
}

// ---- Key expansion (FIPS-197 §5.2 with AESKEYGENASSIST, as in Intel's AES-NI white paper). ----

CDH_XTS_VAES_INLINE __m128i ShiftXor(__m128i k) {
  k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
  k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
  return _mm_xor_si128(k, _mm_slli_si128(k, 4));
}

template <int kRcon>
CDH_XTS_VAES_INLINE __m128i Next128(__m128i k) {
  return _mm_xor_si128(ShiftXor(k), _mm_shuffle_epi32(_mm_aeskeygenassist_si128(k, kRcon), 0xff));
}

// AES-256: the even round key from the one two back and RotWord/SubWord/Rcon of the previous one.
template <int kRcon>
CDH_XTS_VAES_INLINE __m128i Next256Even(__m128i two_back, __m128i prev) {
  return _mm_xor_si128(ShiftXor(two_back), _mm_shuffle_epi32(_mm_aeskeygenassist_si128(prev, kRcon), 0xff));
}
// AES-256: the odd round key, SubWord only.
CDH_XTS_VAES_INLINE __m128i Next256Odd(__m128i two_back, __m128i prev) {
  return _mm_xor_si128(ShiftXor(two_back), _mm_shuffle_epi32(_mm_aeskeygenassist_si128(prev, 0), 0xaa));
}

// Fills ek[0..rounds] with the encryption round keys of `key` (16 or 32 bytes).
CDH_XTS_VAES_TARGET void ExpandEncrypt(const uint8_t* key, size_t key_size, __m128i* ek) {
  if (key_size == 16) {
    ek[0] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(key));
    ek[1] = Next128<0x01>(ek[0]);
    ek[2] = Next128<0x02>(ek[1]);
    ek[3] = Next128<0x04>(ek[2]);
    ek[4] = Next128<0x08>(ek[3]);
    ek[5] = Next128<0x10>(ek[4]);
    ek[6] = Next128<0x20>(ek[5]);
    ek[7] = Next128<0x40>(ek[6]);
    ek[8] = Next128<0x80>(ek[7]);
    ek[9] = Next128<0x1b>(ek[8]);
    ek[10] = Next128<0x36>(ek[9]);
    return;
  }
  ek[0] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(key));
  ek[1] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(key + 16));
  ek[2] = Next256Even<0x01>(ek[0], ek[1]);
  ek[3] = Next256Odd(ek[1], ek[2]);
  ek[4] = Next256Even<0x02>(ek[2], ek[3]);
  ek[5] = Next256Odd(ek[3], ek[4]);
  ek[6] = Next256Even<0x04>(ek[4], ek[5]);
  ek[7] = Next256Odd(ek[5], ek[6]);
  ek[8] = Next256Even<0x08>(ek[6], ek[7]);
  ek[9] = Next256Odd(ek[7], ek[8]);
  ek[10] = Next256Even<0x10>(ek[8], ek[9]);
  ek[11] = Next256Odd(ek[9], ek[10]);
  ek[12] = Next256Even<0x20>(ek[10], ek[11]);
  ek[13] = Next256Odd(ek[11], ek[12]);
  ek[14] = Next256Even<0x40>(ek[12], ek[13]);
}

// Writes the broadcast round keys of both halves of `key` into `out` (layout in xts_vaes.h).
CDH_XTS_VAES_TARGET void ExpandXtsKeys(std::span<const uint8_t> key, int rounds, bool decrypt, uint8_t* out) {
  const size_t half = key.size() / 2;
  __m128i ek[kMaxRoundKeys], dk[kMaxRoundKeys];
  ExpandEncrypt(key.data(), half, ek);
  if (decrypt) {
    // The equivalent inverse cipher (FIPS-197 §5.3.5): reversed order, InvMixColumns inside.
    dk[0] = ek[rounds];
    for (int r = 1; r < rounds; ++r) dk[r] = _mm_aesimc_si128(ek[rounds - r]);
    dk[rounds] = ek[0];
  }
  const __m128i* data = decrypt ? dk : ek;
  for (int r = 0; r <= rounds; ++r) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + r * kKeyStride), _mm256_broadcastsi128_si256(data[r]));
  }
  ExpandEncrypt(key.data() + half, half, ek);  // tweak key: always encryption
  uint8_t* tweak_out = out + (rounds + 1) * kKeyStride;
  for (int r = 0; r <= rounds; ++r) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(tweak_out + r * kKeyStride), _mm256_broadcastsi128_si256(ek[r]));
  }
  SecretBytes::WipeForeign(ek, sizeof(ek));  // stack temporaries of the kernel
  SecretBytes::WipeForeign(dk, sizeof(dk));  // stack temporaries of the kernel
}

// ---- GF(2^128) tweak arithmetic (IEEE 1619 §5.2: multiplication by alpha = x). ----

// Multiplies each 128-bit lane of `v` (little-endian, as XTS stores tweaks) by x^kShift,
// 1 <= kShift <= 56: shift each 64-bit half left, move the low half's carry into the high half
// and fold the high half's carry back with x^128 = x^7 + x^2 + x + 1 (0x87) by a carry-less
// multiplication; the product has fewer than 64 bits, so it needs no further reduction.
template <int kShift>
CDH_XTS_VAES_INLINE __m256i MulXPow(__m256i v) {
  static_assert(kShift >= 1 && kShift <= 56);
  const __m256i poly = _mm256_set_epi64x(0, 0x87, 0, 0x87);
  __m256i carry = _mm256_srli_epi64(v, 64 - kShift);
  const __m256i folded = _mm256_clmulepi64_epi128(carry, poly, 0x01);  // carry.high * 0x87
  carry = _mm256_slli_si256(carry, 8);                                 // carry.low -> high half
  return _mm256_xor_si256(_mm256_xor_si256(_mm256_slli_epi64(v, kShift), carry), folded);
}

CDH_XTS_VAES_INLINE __m128i MulX(__m128i v) {
  const __m128i poly = _mm_set_epi64x(0, 0x87);
  __m128i carry = _mm_srli_epi64(v, 63);
  const __m128i folded = _mm_clmulepi64_si128(carry, poly, 0x01);
  carry = _mm_slli_si128(carry, 8);
  return _mm_xor_si128(_mm_xor_si128(_mm_slli_epi64(v, 1), carry), folded);
}

// ---- The data path. ----

template <int kRounds>
struct Keys {
  const uint8_t* p;
  CDH_XTS_VAES_INLINE __m256i K(int r) const {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + r * kKeyStride));
  }
  CDH_XTS_VAES_INLINE __m128i K128(int r) const {
    return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + r * kKeyStride));
  }
};

template <bool kDecrypt>
CDH_XTS_VAES_INLINE __m256i Round(__m256i x, __m256i k) {
  return kDecrypt ? _mm256_aesdec_epi128(x, k) : _mm256_aesenc_epi128(x, k);
}
template <bool kDecrypt>
CDH_XTS_VAES_INLINE __m256i LastRound(__m256i x, __m256i k) {
  return kDecrypt ? _mm256_aesdeclast_epi128(x, k) : _mm256_aesenclast_epi128(x, k);
}

// Encrypts the plain64 tweaks of `n` (<= kTweakBatch) sectors with the tweak key, together.
template <int kRounds>
CDH_XTS_VAES_INLINE void EncryptSectorTweaks(const Keys<kRounds>& tk, uint64_t first, uint64_t step, int n,
                                             __m128i* out) {
  __m256i t[kTweakBatch / 2];
  const __m256i k0 = tk.K(0);
#pragma GCC unroll 4
  for (int j = 0; j < kTweakBatch / 2; ++j) {
    const uint64_t a = first + step * static_cast<uint64_t>(2 * j), b = a + step;
    t[j] = _mm256_xor_si256(_mm256_set_epi64x(0, static_cast<int64_t>(b), 0, static_cast<int64_t>(a)), k0);
  }
  for (int r = 1; r < kRounds; ++r) {
    const __m256i k = tk.K(r);
#pragma GCC unroll 4
    for (int j = 0; j < kTweakBatch / 2; ++j) t[j] = _mm256_aesenc_epi128(t[j], k);
  }
  const __m256i kl = tk.K(kRounds);
  for (int j = 0; j < (n + 1) / 2; ++j) {
    const __m256i e = _mm256_aesenclast_epi128(t[j], kl);
    out[2 * j] = _mm256_castsi256_si128(e);
    out[2 * j + 1] = _mm256_extracti128_si256(e, 1);
  }
}

// One sector: `tweak` is its encrypted tweak (block 0's); block j uses tweak * x^j.
template <bool kDecrypt, int kRounds>
CDH_XTS_VAES_INLINE void CryptSector(const Keys<kRounds>& dk, __m128i tweak, const uint8_t* in, uint8_t* out,
                                     size_t blocks) {
  constexpr int kRegs = kBlocksInFlight / 2;
  __m256i tw[kRegs];
  tw[0] = _mm256_set_m128i(MulX(tweak), tweak);  // low lane: block 0, high lane: block 1
#pragma GCC unroll 8
  for (int i = 1; i < kRegs; ++i) tw[i] = MulXPow<2>(tw[i - 1]);
  for (; blocks >= kBlocksInFlight;
       blocks -= kBlocksInFlight, in += 16 * kBlocksInFlight, out += 16 * kBlocksInFlight) {
    __m256i x[kRegs];
    const __m256i k0 = dk.K(0);
#pragma GCC unroll 8
    for (int i = 0; i < kRegs; ++i) {
      x[i] = _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + 32 * i)),
                              _mm256_xor_si256(tw[i], k0));
    }
#pragma GCC unroll 14
    for (int r = 1; r < kRounds; ++r) {
      const __m256i k = dk.K(r);
#pragma GCC unroll 8
      for (int i = 0; i < kRegs; ++i) x[i] = Round<kDecrypt>(x[i], k);
    }
    const __m256i kl = dk.K(kRounds);
#pragma GCC unroll 8
    for (int i = 0; i < kRegs; ++i) {
      x[i] = _mm256_xor_si256(LastRound<kDecrypt>(x[i], kl), tw[i]);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 32 * i), x[i]);
      tw[i] = MulXPow<kBlocksInFlight>(tw[i]);
    }
  }
  // Sectors whose size is not a multiple of 256 bytes (never 512 or 4096) end here.
  __m256i t = tw[0];
  for (; blocks >= 2; blocks -= 2, in += 32, out += 32) {
    __m256i x =
        _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(in)), _mm256_xor_si256(t, dk.K(0)));
    for (int r = 1; r < kRounds; ++r) x = Round<kDecrypt>(x, dk.K(r));
    x = _mm256_xor_si256(LastRound<kDecrypt>(x, dk.K(kRounds)), t);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), x);
    t = MulXPow<2>(t);
  }
  if (blocks == 1) {
    const __m128i t1 = _mm256_castsi256_si128(t);
    __m128i x = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in)), _mm_xor_si128(t1, dk.K128(0)));
    for (int r = 1; r < kRounds; ++r) {
      x = kDecrypt ? _mm_aesdec_si128(x, dk.K128(r)) : _mm_aesenc_si128(x, dk.K128(r));
    }
    x = kDecrypt ? _mm_aesdeclast_si128(x, dk.K128(kRounds)) : _mm_aesenclast_si128(x, dk.K128(kRounds));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm_xor_si128(x, t1));
  }
}

template <bool kDecrypt, int kRounds>
CDH_XTS_VAES_TARGET void CryptRun(const uint8_t* round_keys, const uint8_t* in, uint8_t* out, size_t sectors,
                                  size_t sector_size, uint64_t tweak, uint64_t step) {
  const Keys<kRounds> dk{round_keys};
  const Keys<kRounds> tk{round_keys + (kRounds + 1) * kKeyStride};
  const size_t blocks = sector_size / 16;
  __m128i tweaks[kTweakBatch];
  while (sectors > 0) {
    const int n = static_cast<int>(sectors < kTweakBatch ? sectors : kTweakBatch);
    EncryptSectorTweaks(tk, tweak, step, n, tweaks);
    for (int j = 0; j < n; ++j, in += sector_size, out += sector_size) {
      CryptSector<kDecrypt, kRounds>(dk, tweaks[j], in, out, blocks);
    }
    sectors -= n;
    tweak += step * static_cast<uint64_t>(n);
  }
  // Not key material, but derived from it: do not leave encrypted tweaks on the stack.
  SecretBytes::WipeForeign(tweaks, sizeof(tweaks));  // stack temporaries of the kernel
}

}  // namespace

const XtsCpuFeatures& DetectXtsCpuFeatures() {
  static const XtsCpuFeatures features = Detect();
  return features;
}

bool CpuSupportsVaesAvx2() {
  const XtsCpuFeatures& f = DetectXtsCpuFeatures();
  return f.aesni && f.avx2 && f.vaes;
}

std::unique_ptr<XtsVaesKernel> XtsVaesKernel::New(std::span<const uint8_t> key, bool decrypt) {
  if ((key.size() != 32 && key.size() != 64) || !CpuSupportsVaesAvx2()) return nullptr;
  const int rounds = key.size() == 64 ? 14 : 10;
  SecretBytes round_keys(2 * (rounds + 1) * kKeyStride);
  ExpandXtsKeys(key, rounds, decrypt, round_keys.RevealMutable().data());
  return std::unique_ptr<XtsVaesKernel>(new XtsVaesKernel(std::move(round_keys), rounds, decrypt));
}

XtsVaesKernel::XtsVaesKernel(SecretBytes round_keys, int rounds, bool decrypt)
    : round_keys_(std::move(round_keys)), rounds_(rounds), decrypt_(decrypt) {}

void XtsVaesKernel::CryptSectors(const uint8_t* in, uint8_t* out, size_t sectors, size_t sector_size,
                                 uint64_t first_tweak, uint64_t tweak_step) const {
  const uint8_t* rk = round_keys_.Reveal().data();
  if (rounds_ == 14) {
    decrypt_ ? CryptRun<true, 14>(rk, in, out, sectors, sector_size, first_tweak, tweak_step)
             : CryptRun<false, 14>(rk, in, out, sectors, sector_size, first_tweak, tweak_step);
  } else {
    decrypt_ ? CryptRun<true, 10>(rk, in, out, sectors, sector_size, first_tweak, tweak_step)
             : CryptRun<false, 10>(rk, in, out, sectors, sector_size, first_tweak, tweak_step);
  }
}

}  // namespace cdh::crypto::internal
