#include "crypto/rsa_oaep.h"

#include "gtest/gtest.h"
#include "common/base64.h"
#include "common/json.h"
#include "crypto/hash.h"
#include "tests/kbs_kat_vectors.h"

namespace cdh::crypto {
namespace {

TEST(RsaOaepTest, SpecKeyMatchesJwkAndDecryptsSpecCek) {
  auto key = RsaPrivateKey::FromPem(SecretBytes::FromString(kat::kRsaTeePem));
  ASSERT_TRUE(key.ok()) << key.status();
  auto jwk = ParseJson(kat::kRsaTeeJwk, "jwk");
  ASSERT_TRUE(jwk.ok());
  EXPECT_EQ(Base64UrlEncode(key->Modulus()), (*jwk)["n"].get<std::string>());
  EXPECT_EQ(Base64UrlEncode(key->PublicExponent()), "AQAB");
  auto jwe = ParseJson(kat::kRsaJwe, "jwe");
  ASSERT_TRUE(jwe.ok());
  auto ek = Base64UrlDecode((*jwe)["encrypted_key"].get<std::string>());
  ASSERT_TRUE(ek.ok());
  auto cek = key->DecryptOaepSha256(*ek);
  ASSERT_TRUE(cek.ok()) << cek.status();
  EXPECT_EQ(HexEncode(std::string(cek->RevealString())),
            "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
  std::string flipped = *ek;
  flipped[100] ^= 1;
  EXPECT_EQ(key->DecryptOaepSha256(flipped).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(key->DecryptOaepSha256(ek->substr(1)).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(RsaOaepTest, GeneratedKeyRoundTrips) {
  auto key = RsaPrivateKey::Generate(2048);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(key->ModulusSize(), 256u);
  auto pub = RsaPublicKey::FromModulusExponent(key->Modulus(), key->PublicExponent());
  ASSERT_TRUE(pub.ok()) << pub.status();
  SecretBytes msg = SecretBytes::FromString("thirty-two bytes of content key!");
  auto ct = pub->EncryptOaepSha256(msg);
  ASSERT_TRUE(ct.ok());
  auto pt = key->DecryptOaepSha256(*ct);
  ASSERT_TRUE(pt.ok()) << pt.status();
  EXPECT_TRUE(pt->Equals(msg.Reveal()));
}

TEST(RsaOaepTest, RejectsWeakOrMalformedKeys) {
  EXPECT_EQ(RsaPublicKey::FromModulusExponent(std::string(128, '\xff'), "\x01\x00\x01").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RsaPublicKey::FromModulusExponent(std::string(256, '\xff'), "\x02").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RsaPrivateKey::FromPem(SecretBytes::FromString("junk")).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RsaPrivateKey::FromPem(SecretBytes::FromString(kat::kEcTeePem)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cdh::crypto
