#include "crypto/aes_key_wrap.h"

#include "absl/strings/escaping.h"
#include "common/testing/status_matchers.h"
#include "crypto/hash.h"
#include "gtest/gtest.h"

namespace cdh::crypto {
namespace {

using ::cdh::testing::IsOk;
using ::cdh::testing::StatusIs;

SecretBytes FromHex(const char* hex) {
  std::string bytes = absl::HexStringToBytes(hex);
  return SecretBytes::TakeString(bytes);
}

// RFC 3394 §4.6: 256 bits of key data with a 256-bit KEK.
TEST(AesKeyWrapTest, Rfc3394Vector) {
  SecretBytes kek = FromHex("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F");
  SecretBytes key = FromHex("00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F");
  auto wrapped = Aes256KeyWrap(kek, key);
  ASSERT_THAT(wrapped, IsOk());
  EXPECT_EQ(HexEncode(*wrapped), "28c9f404c4b810f4cbccb35cfb87f8263f5786e2d80ed326cbc7f0e71a99f43bfb988b9b7a02dd21");
  auto unwrapped = Aes256KeyUnwrap(kek, *wrapped);
  ASSERT_THAT(unwrapped, IsOk());
  EXPECT_TRUE(unwrapped->Equals(key.Reveal()));
}

// kbs-protocol.md §3.6: KEK from the Concat KDF, CEK = 0x00..0x1f.
TEST(AesKeyWrapTest, KbsSpecVector) {
  SecretBytes kek = FromHex("31291d89a2aeda8f1a456d2624d1b69dc103de0fb4168c4ebba6cab56d0b389d");
  auto cek = Aes256KeyUnwrap(
      kek, absl::HexStringToBytes("edfaaa5d27c5fece22c359d09284ac9904c013260dc5e151a12ffa7cd7fa8867988e5c592d406126"));
  ASSERT_THAT(cek, IsOk());
  EXPECT_EQ(HexEncode(std::string(cek->RevealString())),
            "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
}

TEST(AesKeyWrapTest, NegativeCases) {
  SecretBytes kek = FromHex("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F");
  std::string wrapped =
      absl::HexStringToBytes("28c9f404c4b810f4cbccb35cfb87f8263f5786e2d80ed326cbc7f0e71a99f43bfb988b9b7a02dd21");
  for (size_t i = 0; i < wrapped.size(); i += 7) {
    std::string flipped = wrapped;
    flipped[i] ^= 0x01;
    EXPECT_THAT(Aes256KeyUnwrap(kek, flipped), StatusIs(absl::StatusCode::kPermissionDenied)) << i;
  }
  EXPECT_THAT(Aes256KeyUnwrap(kek, wrapped.substr(0, 39)), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Aes256KeyUnwrap(kek, wrapped.substr(0, 16)), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Aes256KeyUnwrap(kek, wrapped.substr(0, 32)), StatusIs(absl::StatusCode::kPermissionDenied));
  SecretBytes short_kek(16);
  EXPECT_THAT(Aes256KeyUnwrap(short_kek, wrapped), StatusIs(absl::StatusCode::kInvalidArgument));
  SecretBytes other_kek(32);
  EXPECT_THAT(Aes256KeyUnwrap(other_kek, wrapped), StatusIs(absl::StatusCode::kPermissionDenied));
  SecretBytes odd_key(20);
  EXPECT_THAT(Aes256KeyWrap(kek, odd_key), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace cdh::crypto
