#include "crypto/aes.h"

#include <atomic>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/escaping.h"
#include "common/testing/status_matchers.h"
#include "crypto/aes_key_wrap.h"
#include "crypto/hash.h"

namespace cdh::crypto {
namespace {

using ::cdh::testing::IsOk;
using ::cdh::testing::StatusIs;

SecretBytes Key(uint8_t start) {
  SecretBytes k(32);
  for (int i = 0; i < 32; ++i) k.RevealMutable()[i] = static_cast<uint8_t>(start + i);
  return k;
}

std::string Hex(const char* h) { return absl::HexStringToBytes(h); }

// NIST GCM test case 14 (AES-256, zero key, zero IV, one zero block).
TEST(AesGcmTest, KnownAnswer) {
  SecretBytes key(32);
  std::string iv(12, '\0');
  auto ct = Aes256GcmEncrypt(key, iv, std::string(16, '\0'), "");
  ASSERT_THAT(ct, IsOk());
  EXPECT_EQ(ct->ciphertext, Hex("cea7403d4d606b6e074ec5d3baf39d18"));
  EXPECT_EQ(ct->tag, Hex("d0d1c8a799996bf0265b98b5d48ab919"));
}

// AES-GCM, AES key wrap and SHA-256 use algorithm objects fetched once per process
// (evp_algorithms.h) and shared by every thread: threads racing to the first use and using them
// at once must all get the known answers.
TEST(AesGcmTest, ConcurrentUseOfTheSharedAlgorithms) {
  constexpr int kThreads = 8;
  constexpr int kRounds = 200;
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kRounds; ++i) {
        SecretBytes key(32);
        auto ct = Aes256GcmEncrypt(key, std::string(12, '\0'), std::string(16, '\0'), "");
        if (!ct.ok() || ct->ciphertext != Hex("cea7403d4d606b6e074ec5d3baf39d18") ||
            ct->tag != Hex("d0d1c8a799996bf0265b98b5d48ab919")) {
          ++wrong;
        }
        auto pt = ct.ok() ? Aes256GcmDecrypt(key, std::string(12, '\0'), ct->ciphertext, ct->tag, "")
                          : absl::StatusOr<SecretBytes>(absl::InternalError("no ciphertext"));
        if (!pt.ok() || pt->RevealString() != std::string(16, '\0')) ++wrong;
        auto wrapped = Aes256KeyWrap(Key(1), Key(7));
        auto unwrapped = wrapped.ok() ? Aes256KeyUnwrap(Key(1), *wrapped)
                                      : absl::StatusOr<SecretBytes>(absl::InternalError("no wrapped key"));
        if (!unwrapped.ok() || unwrapped->RevealString() != Key(7).RevealString()) ++wrong;
        if (HexEncode(Sha256("abc")) != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") ++wrong;
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST(AesGcmTest, RoundTripWithAad) {
  SecretBytes key = Key(0);
  auto ct = Aes256GcmEncrypt(key, "123456789012", "hello-cdh", "aad");
  ASSERT_THAT(ct, IsOk());
  auto pt = Aes256GcmDecrypt(key, "123456789012", ct->ciphertext, ct->tag, "aad");
  ASSERT_THAT(pt, IsOk());
  EXPECT_EQ(pt->RevealString(), "hello-cdh");
}

TEST(AesGcmTest, EveryBitFlipIsRejected) {
  SecretBytes key = Key(7);
  auto ct = Aes256GcmEncrypt(key, "123456789012", "secret data", "hdr");
  ASSERT_THAT(ct, IsOk());
  for (size_t i = 0; i < ct->ciphertext.size() * 8; ++i) {
    std::string c = ct->ciphertext;
    c[i / 8] ^= static_cast<char>(1 << (i % 8));
    EXPECT_THAT(Aes256GcmDecrypt(key, "123456789012", c, ct->tag, "hdr"),
                StatusIs(absl::StatusCode::kPermissionDenied));
  }
  for (size_t i = 0; i < 16 * 8; ++i) {
    std::string t = ct->tag;
    t[i / 8] ^= static_cast<char>(1 << (i % 8));
    EXPECT_THAT(Aes256GcmDecrypt(key, "123456789012", ct->ciphertext, t, "hdr"),
                StatusIs(absl::StatusCode::kPermissionDenied));
  }
  EXPECT_THAT(Aes256GcmDecrypt(key, "123456789012", ct->ciphertext, ct->tag, "hdR"),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(Aes256GcmDecrypt(Key(8), "123456789012", ct->ciphertext, ct->tag, "hdr"),
              StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST(AesGcmTest, RejectsBadLengths) {
  SecretBytes key = Key(0);
  EXPECT_THAT(Aes256GcmDecrypt(key, "123456789012", "x", std::string(15, 'a'), ""),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Aes256GcmDecrypt(SecretBytes(16), "123456789012", "x", std::string(16, 'a'), ""),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Aes256GcmDecrypt(key, "", "x", std::string(16, 'a'), ""), StatusIs(absl::StatusCode::kInvalidArgument));
}

// NIST SP 800-38A F.5.5 CTR-AES256.Encrypt, first block.
TEST(AesCtrTest, KnownAnswer) {
  SecretBytes key(std::span<const uint8_t>(
      reinterpret_cast<const uint8_t*>(Hex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4").data()),
      32));
  auto out = Aes256CtrCrypt(key, Hex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"), Hex("6bc1bee22e409f96e93d7e117393172a"));
  ASSERT_THAT(out, IsOk());
  EXPECT_EQ(std::string(out->RevealString()), Hex("601ec313775789a5b7a7f504bbf3d228"));
  EXPECT_THAT(Aes256CtrCrypt(key, "short", "x"), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace cdh::crypto
