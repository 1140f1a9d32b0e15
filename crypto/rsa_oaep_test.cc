#include "crypto/rsa_oaep.h"

#include "common/base64.h"
#include "common/json.h"
#include "common/testing/status_matchers.h"
#include "crypto/hash.h"
#include "gtest/gtest.h"
#include "tests/kbs_kat_vectors.h"

namespace cdh::crypto {
namespace {

using ::cdh::testing::IsOk;
using ::cdh::testing::StatusIs;

TEST(RsaOaepTest, SpecKeyMatchesJwkAndDecryptsSpecCek) {
  auto key = RsaPrivateKey::FromPem(SecretBytes::FromString(kat::kRsaTeePem));
  ASSERT_THAT(key, IsOk());
  auto jwk = ParseJson(kat::kRsaTeeJwk, "jwk");
  ASSERT_THAT(jwk, IsOk());
  EXPECT_EQ(Base64UrlEncode(key->Modulus()), (*jwk)["n"].get<std::string>());
  EXPECT_EQ(Base64UrlEncode(key->PublicExponent()), "AQAB");
  auto jwe = ParseJson(kat::kRsaJwe, "jwe");
  ASSERT_THAT(jwe, IsOk());
  auto ek = Base64UrlDecode((*jwe)["encrypted_key"].get<std::string>());
  ASSERT_THAT(ek, IsOk());
  auto cek = key->DecryptOaepSha256(*ek);
  ASSERT_THAT(cek, IsOk());
  EXPECT_EQ(HexEncode(std::string(cek->RevealString())),
            "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
  std::string flipped = *ek;
  flipped[100] ^= 1;
  EXPECT_THAT(key->DecryptOaepSha256(flipped), StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(key->DecryptOaepSha256(ek->substr(1)), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(RsaOaepTest, GeneratedKeyRoundTrips) {
  auto key = RsaPrivateKey::Generate(2048);
  ASSERT_THAT(key, IsOk());
  EXPECT_EQ(key->ModulusSize(), 256u);
  auto pub = RsaPublicKey::FromModulusExponent(key->Modulus(), key->PublicExponent());
  ASSERT_THAT(pub, IsOk());
  SecretBytes msg = SecretBytes::FromString("thirty-two bytes of content key!");
  auto ct = pub->EncryptOaepSha256(msg);
  ASSERT_THAT(ct, IsOk());
  auto pt = key->DecryptOaepSha256(*ct);
  ASSERT_THAT(pt, IsOk());
  EXPECT_TRUE(pt->Equals(msg.Reveal()));
}

TEST(RsaOaepTest, RejectsWeakOrMalformedKeys) {
  EXPECT_THAT(RsaPublicKey::FromModulusExponent(std::string(128, '\xff'), "\x01\x00\x01"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(RsaPublicKey::FromModulusExponent(std::string(256, '\xff'), "\x02"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(RsaPrivateKey::FromPem(SecretBytes::FromString("junk")), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(RsaPrivateKey::FromPem(SecretBytes::FromString(kat::kEcTeePem)),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace cdh::crypto
