#include "crypto/xts_cipher.h"

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "common/testing/status_matchers.h"
#include "crypto/xts_vaes.h"
#include "gtest/gtest.h"

namespace cdh::crypto {
namespace {

using ::cdh::testing::IsOk;
using ::cdh::testing::StatusIs;

std::vector<uint8_t> FromHex(std::string_view hex) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
}

SecretBytes Key(std::string_view hex) { return SecretBytes(FromHex(hex)); }

// IEEE 1619-2007 Annex B: plaintext of vectors 4 and 10 is bytes 00..ff twice (512 bytes).
std::vector<uint8_t> Pattern512() {
  std::vector<uint8_t> p(512);
  for (size_t i = 0; i < p.size(); ++i) p[i] = static_cast<uint8_t>(i);
  return p;
}

struct Vector {
  const char* name;
  const char* key;
  uint64_t data_unit;
  const char* ciphertext;
};

// IEEE 1619-2007 XTS-AES vectors 4 (AES-128, data unit 0) and 10 (AES-256, data unit 0xff),
// 512-byte data units: one LUKS2 512-byte sector each.
const Vector kVectors[] = {
    {"V4", "2718281828459045235360287471352631415926535897932384626433832795", 0,
     "27a7479befa1d476489f308cd4cfa6e2a96e4bbe3208ff25287dd3819616e89cc78cf7f5e543445f8333d8fa7f56000005279fa5d8b5e4ad4"
     "0e736ddb4d35412328063fd2aab53e5ea1e0a9f332500a5df9487d07a5c92cc512c8866c7e860ce93fdf166a24912b422976146ae20ce846b"
     "b7dc9ba94a767aaef20c0d61ad02655ea92dc4c4e41a8952c651d33174be51a10c421110e6d81588ede82103a252d8a750e8768defffed912"
     "2810aaeb99f9172af82b604dc4b8e51bcb08235a6f4341332e4ca60482a4ba1a03b3e65008fc5da76b70bf1690db4eae29c5f1badd03c5ccf"
     "2a55d705ddcd86d449511ceb7ec30bf12b1fa35b913f9f747a8afd1b130e94bff94effd01a91735ca1726acd0b197c4e5b03393697e126826"
     "fb6bbde8ecc1e08298516e2c9ed03ff3c1b7860f6de76d4cecd94c8119855ef5297ca67e9f3e7ff72b1e99785ca0a7e7720c5b36dc6d72cac"
     "9574c8cbbc2f801e23e56fd344b07f22154beba0f08ce8891e643ed995c94d9a69c9f1b5f499027a78572aeebd74d20cc39881c213ee770b1"
     "010e4bea718846977ae119f7a023ab58cca0ad752afe656bb3c17256a9f6e9bf19fdd5a38fc82bbe872c5539edb609ef4f79c203ebb140f2e"
     "583cb2ad15b4aa5b655016a8449277dbd477ef2c8d6c017db738b18deb4a427d1923ce3ff262735779a418f20a282df920147beabe421ee53"
     "19d0568"},
    {"V10",
     "27182818284590452353602874713526624977572470936999595749669676273141592653589793238462643383279502884197169399375"
     "105820974944592",
     0xff,
     "1c3b3a102f770386e4836c99e370cf9bea00803f5e482357a4ae12d414a3e63b5d31e276f8fe4a8d66b317f9ac683f44680a86ac35adfc334"
     "5befecb4bb188fd5776926c49a3095eb108fd1098baec70aaa66999a72a82f27d848b21d4a741b0c5cd4d5fff9dac89aeba122961d03a7571"
     "23e9870f8acf1000020887891429ca2a3e7a7d7df7b10355165c8b9a6d0a7de8b062c4500dc4cd120c0f7418dae3d0b5781c34803fa75421c"
     "790dfe1de1834f280d7667b327f6c8cd7557e12ac3a0f93ec05c52e0493ef31a12d3d9260f79a289d6a379bc70c50841473d1a8cc81ec583e"
     "9645e07b8d9670655ba5bbcfecc6dc3966380ad8fecb17b6ba02469a020a84e18e8f84252070c13e9f1f289be54fbc481457778f616015e13"
     "27a02b140f1505eb309326d68378f8374595c849d84f4c333ec4423885143cb47bd71c5edae9be69a2ffeceb1bec9de244fbe15992b11b77c"
     "040f12bd8f6a975a44a0f90c29a9abc3d4d893927284c58754cce294529f8614dcd2aba991925fedc4ae74ffac6e333b93eb4aff0479da9a4"
     "10e4450e0dd7ae4c6e2910900575da401fc07059f645e8b7e9bfdef33943054ff84011493c27b3429eaedb4ed5376441a77ed43851ad77f16"
     "f541dfd269d50d6a5f14fb0aab1cbb4c1550be97f7ab4066193c4caa773dad38014bd2092fa755c824bb5e54c4f36ffda9fcea70b9c6e693e"
     "148c151"},
};

using Factory = absl::StatusOr<std::unique_ptr<XtsSectorCipher>> (*)(const SecretBytes&, XtsDirection);
struct NamedFactory {
  const char* name;
  Factory make;
};
// New() picks the VAES kernel on a CPU that has it; NewOpenSslForTest() is what every other CPU
// gets. Both must pass every known-answer test.
const NamedFactory kFactories[] = {{"New", &XtsSectorCipher::New},
                                   {"NewOpenSslForTest", &XtsSectorCipher::NewOpenSslForTest}};

TEST(XtsSectorCipherTest, Ieee1619VectorsBothDirections) {
  for (const NamedFactory& f : kFactories) {
    for (const Vector& v : kVectors) {
      SCOPED_TRACE(::testing::Message() << f.name << " " << v.name);
      const std::vector<uint8_t> pt = Pattern512(), ct = FromHex(v.ciphertext);
      auto enc = f.make(Key(v.key), XtsDirection::kEncrypt);
      auto dec = f.make(Key(v.key), XtsDirection::kDecrypt);
      ASSERT_TRUE(enc.ok() && dec.ok());
      std::vector<uint8_t> out(512);
      ASSERT_TRUE((*enc)->CryptSectors(pt, out, 512, v.data_unit, 1).ok());
      EXPECT_EQ(out, ct);
      ASSERT_TRUE((*dec)->CryptSectors(ct, out, 512, v.data_unit, 1).ok());
      EXPECT_EQ(out, pt);
      // The naive reference gives the same bytes.
      ASSERT_TRUE(
          XtsCryptSectorsRekeyingEachSectorForTest(Key(v.key), XtsDirection::kEncrypt, pt, out, 512, v.data_unit, 1)
              .ok());
      EXPECT_EQ(out, ct);
    }
  }
}

// IEEE 1619-2007 Annex B vectors 2 and 3: AES-128, one 32-byte data unit (two blocks, so the
// kernel's short tail), data unit number 0x3333333333 (above 2^32).
TEST(XtsSectorCipherTest, Ieee1619ShortDataUnitVectors) {
  struct Short {
    const char* name;
    const char* key;
    const char* ciphertext;
  };
  const Short kShort[] = {
      {"V2", "1111111111111111111111111111111122222222222222222222222222222222",
       "c454185e6a16936e39334038acef838bfb186fff7480adc4289382ecd6d394f0"},
      {"V3", "fffefdfcfbfaf9f8f7f6f5f4f3f2f1f022222222222222222222222222222222",
       "af85336b597afc1a900b2eb21ec949d292df4c047e0b21532186a5971a227a89"},
  };
  const std::vector<uint8_t> pt(32, 0x44);
  for (const NamedFactory& f : kFactories) {
    for (const Short& v : kShort) {
      SCOPED_TRACE(::testing::Message() << f.name << " " << v.name);
      auto enc = f.make(Key(v.key), XtsDirection::kEncrypt);
      auto dec = f.make(Key(v.key), XtsDirection::kDecrypt);
      ASSERT_TRUE(enc.ok() && dec.ok());
      std::vector<uint8_t> out(32);
      ASSERT_TRUE((*enc)->CryptSectors(pt, out, 32, 0x3333333333, 1).ok());
      EXPECT_EQ(out, FromHex(v.ciphertext));
      ASSERT_TRUE((*dec)->CryptSectors(out, out, 32, 0x3333333333, 1).ok());
      EXPECT_EQ(out, pt);
    }
  }
}

// New() takes the VAES kernel exactly when cpuid and XGETBV say the CPU and OS support it; the
// test-only factory forces the OpenSSL fallback a CPU without VAES gets.
TEST(XtsSectorCipherTest, ImplementationFollowsCpuFeaturesAndFallbackCanBeForced) {
  const SecretBytes key = Key(kVectors[1].key);
  auto chosen = XtsSectorCipher::New(key, XtsDirection::kDecrypt);
  auto fallback = XtsSectorCipher::NewOpenSslForTest(key, XtsDirection::kDecrypt);
  ASSERT_TRUE(chosen.ok() && fallback.ok());
  EXPECT_EQ((*chosen)->implementation(),
            internal::CpuSupportsVaesAvx2() ? XtsImplementation::kVaesAvx2 : XtsImplementation::kOpenSslProvider);
  EXPECT_NE((*fallback)->implementation(), XtsImplementation::kVaesAvx2);
  if (!internal::CpuSupportsVaesAvx2()) {
    std::printf("note: this CPU has no VAES/AVX2; the kernel was not exercised by this test binary\n");
  }
}

// Differential test of the chosen implementation (the VAES kernel where the CPU has it) against
// OpenSSL: random keys of both sizes, random data, sector sizes 512 and 4096 plus odd multiples
// of 16 (the kernel's tails), 1..19 sectors per call (across the kernel's batches of 8 sector
// tweaks), sector numbers small, above 2^32 and wrapping at 2^64, in place and out of place,
// both directions.
TEST(XtsSectorCipherTest, DifferentialAgainstOpenSslOnRandomInputs) {
  std::mt19937_64 rng(20261130);
  const uint64_t kFirstSectors[] = {0, 1, 0xfffffffe, uint64_t{1} << 32, 0x123456789abcull, ~uint64_t{0} - 3};
  int cases = 0;
  for (size_t key_size : {64u, 32u}) {
    for (size_t ss : {512u, 4096u, 16u, 48u, 272u, 4112u}) {
      for (size_t sectors = 1; sectors <= 19; ++sectors) {
        SecretBytes key(key_size);
        for (auto& b : key.RevealMutable()) b = static_cast<uint8_t>(rng());
        const uint64_t step = ss >= 512 ? ss / 512 : 1;
        const uint64_t first = kFirstSectors[rng() % std::size(kFirstSectors)] * step;
        std::vector<uint8_t> data(sectors * ss);
        for (auto& b : data) b = static_cast<uint8_t>(rng());
        for (XtsDirection d : {XtsDirection::kEncrypt, XtsDirection::kDecrypt}) {
          SCOPED_TRACE(::testing::Message()
                       << "key " << key_size << " sector " << ss << " x" << sectors << " first tweak " << first
                       << (d == XtsDirection::kEncrypt ? " enc" : " dec"));
          auto chosen = XtsSectorCipher::New(key, d);
          auto reference = XtsSectorCipher::NewOpenSslForTest(key, d);
          ASSERT_TRUE(chosen.ok() && reference.ok());
          std::vector<uint8_t> got(data.size()), want(data.size());
          ASSERT_TRUE((*reference)->CryptSectors(data, want, ss, first, step).ok());
          ASSERT_TRUE((*chosen)->CryptSectors(data, got, ss, first, step).ok());
          ASSERT_EQ(got, want);
          std::vector<uint8_t> in_place = data;
          ASSERT_TRUE((*chosen)->CryptSectors(in_place, in_place, ss, first, step).ok());
          ASSERT_EQ(in_place, want);
          ++cases;
        }
      }
    }
  }
  EXPECT_EQ(cases, 2 * 6 * 19 * 2);
}

// A call over N sectors equals N calls of one sector for the kernel too (the tweak batches and
// the per-sector tweak chain restart correctly), and encrypting then decrypting is the identity
// over 1 MiB.
TEST(XtsSectorCipherTest, LargeRunRoundTripsAndMatchesSingleSectorCalls) {
  std::mt19937_64 rng(7);
  SecretBytes key(64);
  for (auto& b : key.RevealMutable()) b = static_cast<uint8_t>(rng());
  std::vector<uint8_t> data(1 << 20);
  for (auto& b : data) b = static_cast<uint8_t>(rng());
  for (size_t ss : {512u, 4096u}) {
    auto enc = XtsSectorCipher::New(key, XtsDirection::kEncrypt);
    auto dec = XtsSectorCipher::New(key, XtsDirection::kDecrypt);
    ASSERT_TRUE(enc.ok() && dec.ok());
    const uint64_t step = ss / 512, first = (uint64_t{5} << 32) * step;
    std::vector<uint8_t> ct(data.size()), single(data.size());
    ASSERT_TRUE((*enc)->CryptSectors(data, ct, ss, first, step).ok());
    for (size_t k = 0; k < data.size() / ss; ++k) {
      ASSERT_TRUE((*enc)
                      ->CryptSectors(std::span<const uint8_t>(data).subspan(k * ss, ss),
                                     std::span<uint8_t>(single).subspan(k * ss, ss), ss, first + k * step, step)
                      .ok());
    }
    EXPECT_EQ(ct, single) << ss;
    EXPECT_NE(ct, data);
    ASSERT_TRUE((*dec)->CryptSectors(ct, ct, ss, first, step).ok());
    EXPECT_EQ(ct, data) << ss;
  }
}

TEST(XtsSectorCipherTest, MultiSectorCallEqualsOneCallPerSectorWithLuksTweakStep) {
  const SecretBytes key = Key(kVectors[1].key);
  std::vector<uint8_t> data(5 * 4096);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 31 + 7);
  auto enc = XtsSectorCipher::New(key, XtsDirection::kEncrypt);
  ASSERT_THAT(enc, IsOk());
  std::vector<uint8_t> batched(data.size()), single(data.size());
  // 4096-byte sectors starting at sector 3: plain64 tweaks 24, 32, 40, ... (512-byte units).
  ASSERT_TRUE((*enc)->CryptSectors(data, batched, 4096, 24, 8).ok());
  for (size_t k = 0; k < 5; ++k) {
    std::span<const uint8_t> in(data.data() + k * 4096, 4096);
    std::span<uint8_t> out(single.data() + k * 4096, 4096);
    ASSERT_TRUE((*enc)->CryptSectors(in, out, 4096, 24 + 8 * k, 8).ok());
  }
  EXPECT_EQ(batched, single);
  std::vector<uint8_t> ref(data.size());
  ASSERT_TRUE(XtsCryptSectorsRekeyingEachSectorForTest(key, XtsDirection::kEncrypt, data, ref, 4096, 24, 8).ok());
  EXPECT_EQ(batched, ref);

  // In place decrypt restores the plaintext.
  auto dec = XtsSectorCipher::New(key, XtsDirection::kDecrypt);
  ASSERT_THAT(dec, IsOk());
  ASSERT_TRUE((*dec)->CryptSectors(batched, batched, 4096, 24, 8).ok());
  EXPECT_EQ(batched, data);
}

TEST(XtsSectorCipherTest, WrongTweakOrFlippedBitDoesNotRoundTrip) {
  const SecretBytes key = Key(kVectors[1].key);
  auto enc = XtsSectorCipher::New(key, XtsDirection::kEncrypt);
  auto dec = XtsSectorCipher::New(key, XtsDirection::kDecrypt);
  ASSERT_TRUE(enc.ok() && dec.ok());
  std::vector<uint8_t> pt = Pattern512(), ct(512), out(512);
  ASSERT_TRUE((*enc)->CryptSectors(pt, ct, 512, 7, 1).ok());
  ASSERT_TRUE((*dec)->CryptSectors(ct, out, 512, 8, 1).ok());
  EXPECT_NE(out, pt);
  ct[100] ^= 1;  // XTS is not authenticated: only the 16-byte block holding the flip changes.
  ASSERT_TRUE((*dec)->CryptSectors(ct, out, 512, 7, 1).ok());
  EXPECT_NE(std::vector<uint8_t>(out.begin() + 96, out.begin() + 112),
            std::vector<uint8_t>(pt.begin() + 96, pt.begin() + 112));
  EXPECT_EQ(std::vector<uint8_t>(out.begin(), out.begin() + 96), std::vector<uint8_t>(pt.begin(), pt.begin() + 96));
  EXPECT_EQ(std::vector<uint8_t>(out.begin() + 112, out.end()), std::vector<uint8_t>(pt.begin() + 112, pt.end()));
}

// The OpenSSL fallback uses the provider-dispatch path here, and it agrees with plain EVP (the
// naive reference loop) on patterned data, both directions, both key sizes, both sector sizes.
TEST(XtsSectorCipherTest, ProviderDispatchPathMatchesEvp) {
  for (const Vector& v : kVectors) {
    const SecretBytes key = Key(v.key);
    for (size_t ss : {512u, 4096u}) {
      std::vector<uint8_t> data(7 * ss);
      for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 131 + ss);
      for (XtsDirection d : {XtsDirection::kEncrypt, XtsDirection::kDecrypt}) {
        auto c = XtsSectorCipher::NewOpenSslForTest(key, d);
        ASSERT_THAT(c, IsOk());
        EXPECT_TRUE((*c)->uses_provider_dispatch());
        std::vector<uint8_t> fast(data.size()), ref(data.size());
        ASSERT_TRUE((*c)->CryptSectors(data, fast, ss, uint64_t{1} << 40, ss / 512).ok());
        ASSERT_TRUE(XtsCryptSectorsRekeyingEachSectorForTest(key, d, data, ref, ss, uint64_t{1} << 40, ss / 512).ok());
        EXPECT_EQ(fast, ref) << v.name << " " << ss;
      }
    }
  }
}

TEST(XtsSectorCipherTest, RejectsBadKeysAndSizes) {
  for (const NamedFactory& f : kFactories) {
    SCOPED_TRACE(f.name);
    EXPECT_THAT(f.make(SecretBytes(48), XtsDirection::kEncrypt), StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_THAT(f.make(SecretBytes(32), XtsDirection::kEncrypt), StatusIs(absl::StatusCode::kInvalidArgument));
  }
  EXPECT_THAT(XtsSectorCipher::New(SecretBytes(48), XtsDirection::kDecrypt),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(XtsSectorCipher::New(SecretBytes(64), XtsDirection::kDecrypt),  // equal halves
              StatusIs(absl::StatusCode::kInvalidArgument));
  auto c = XtsSectorCipher::New(Key(kVectors[1].key), XtsDirection::kDecrypt);
  ASSERT_THAT(c, IsOk());
  std::vector<uint8_t> a(1024), b(1024), small(512);
  EXPECT_THAT((*c)->CryptSectors(a, small, 512, 0, 1), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT((*c)->CryptSectors(a, b, 4096, 0, 8), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT((*c)->CryptSectors(a, b, 100, 0, 1), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT((*c)->CryptSectors(a, b, 0, 0, 1), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_TRUE((*c)->CryptSectors({}, {}, 512, 0, 1).ok());
}

}  // namespace
}  // namespace cdh::crypto
