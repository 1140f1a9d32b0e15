// AES-256-CTR from NIST SP 800-38A F.5.5 and HMAC-SHA-256 from RFC 4231 test case 2, plus
// chunking, counter carry and tag-comparison cases.
#include <string>

#include <gtest/gtest.h>

#include "absl/strings/escaping.h"
#include "common/testing/status_matchers.h"
#include "crypto/aes.h"
#include "crypto/aes_ctr_stream.h"
#include "crypto/hmac_sha256.h"

namespace cdh::crypto {
namespace {

using ::cdh::testing::IsOk;
using ::cdh::testing::StatusIs;

std::string Bytes(const char* hex) { return absl::HexStringToBytes(hex); }
std::span<const uint8_t> U8(const std::string& s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

constexpr char kKey[] = "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4";
constexpr char kCounter[] = "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";
constexpr char kPlain[] =
    "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
    "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710";
constexpr char kCipher[] =
    "601ec313775789a5b7a7f504bbf3d228f443e3ca4d62b59aca84e990cacaf5c5"
    "2b0930daa23de94ce87017ba2d84988ddfc9c58db67aada613c2dd08457941a6";

TEST(Aes256CtrStreamTest, NistVectorInAnyChunking) {
  SecretBytes key = SecretBytes::FromString(Bytes(kKey));
  const std::string plain = Bytes(kPlain);
  for (size_t chunk : {1ul, 3ul, 15ul, 16ul, 17ul, 64ul}) {
    auto ctr = Aes256CtrStream::New(key, Bytes(kCounter));
    ASSERT_THAT(ctr, IsOk());
    std::string out(plain.size(), '\0');
    for (size_t off = 0; off < plain.size(); off += chunk) {
      size_t n = std::min(chunk, plain.size() - off);
      ASSERT_TRUE(
          ctr->Crypt(U8(plain).subspan(off, n), std::span<uint8_t>(reinterpret_cast<uint8_t*>(out.data()) + off, n))
              .ok());
    }
    EXPECT_EQ(absl::BytesToHexString(out), kCipher) << "chunk " << chunk;
  }
}

TEST(Aes256CtrStreamTest, CounterCarriesAcross64Bits) {
  // A counter block whose low 64 bits are all ones: the next block must carry into the high
  // half (128-bit big-endian increment, as Go's cipher.NewCTR does), matching one-shot CTR.
  SecretBytes key = SecretBytes::FromString(Bytes(kKey));
  const std::string iv = Bytes("0000000000000000ffffffffffffffff");
  const std::string data(100, 'a');
  auto one_shot = Aes256CtrCrypt(key, iv, data);
  ASSERT_THAT(one_shot, IsOk());
  auto ctr = Aes256CtrStream::New(key, iv);
  ASSERT_THAT(ctr, IsOk());
  std::string out(data.size(), '\0');
  ASSERT_TRUE(ctr->Crypt(U8(data), std::span<uint8_t>(reinterpret_cast<uint8_t*>(out.data()), out.size())).ok());
  EXPECT_EQ(out, one_shot->RevealString());
}

TEST(Aes256CtrStreamTest, RejectsBadSizes) {
  EXPECT_THAT(Aes256CtrStream::New(SecretBytes(31), std::string(16, '\0')),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Aes256CtrStream::New(SecretBytes(32), std::string(12, '\0')),
              StatusIs(absl::StatusCode::kInvalidArgument));
  auto ctr = Aes256CtrStream::New(SecretBytes(32), std::string(16, '\0'));
  ASSERT_THAT(ctr, IsOk());
  std::string in(8, 'x');
  std::string out(4, '\0');
  EXPECT_THAT(ctr->Crypt(U8(in), std::span<uint8_t>(reinterpret_cast<uint8_t*>(out.data()), out.size())),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(HmacSha256Test, Rfc4231Case2InAnyChunking) {
  const std::string data = "what do ya want for nothing?";
  for (size_t chunk : {1ul, 5ul, 28ul}) {
    auto mac = HmacSha256::New(SecretBytes::FromString("Jefe"));
    ASSERT_THAT(mac, IsOk());
    for (size_t off = 0; off < data.size(); off += chunk) {
      ASSERT_TRUE(mac->Update(U8(data).subspan(off, std::min(chunk, data.size() - off))).ok());
    }
    auto tag = mac->Final();
    ASSERT_THAT(tag, IsOk());
    EXPECT_EQ(absl::BytesToHexString(*tag), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  }
}

TEST(HmacSha256Test, VerifyIsDataLossOnAnyDifference) {
  const std::string good = Bytes("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  auto run = [&](const std::string& expected) {
    auto mac = HmacSha256::New(SecretBytes::FromString("Jefe"));
    EXPECT_TRUE(mac->Update(U8(std::string("what do ya want for nothing?"))).ok());
    return mac->Verify(expected);
  };
  EXPECT_THAT(run(good), IsOk());
  for (size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] ^= 0x01;
    EXPECT_THAT(run(bad), StatusIs(absl::StatusCode::kDataLoss)) << i;
  }
  EXPECT_THAT(run(good.substr(0, 31)), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(run(""), StatusIs(absl::StatusCode::kDataLoss));
}

TEST(HmacSha256Test, FinalOnlyOnce) {
  auto mac = HmacSha256::New(SecretBytes::FromString("k"));
  ASSERT_THAT(mac, IsOk());
  ASSERT_THAT(mac->Final(), IsOk());
  EXPECT_THAT(mac->Final(), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(mac->Update(U8(std::string("x"))), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(HmacSha256::New(SecretBytes()), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace cdh::crypto
