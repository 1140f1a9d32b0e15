#include "crypto/ec_p256.h"

#include <gtest/gtest.h>

#include "absl/strings/escaping.h"
#include "common/base64.h"
#include "common/testing/status_matchers.h"
#include "tests/spec_vectors.h"

namespace cdh::crypto {
namespace {

using ::cdh::testing::IsOk;
using ::cdh::testing::StatusIs;

using namespace ::cdh::testing;  // NOLINT: the spec vectors

// Signing input and signature of vector 1, split from the sealed string.
const std::string kKataJws = std::string(kKataSealed).substr(7);
const std::string kKataSigningInput = kKataJws.substr(0, kKataJws.rfind('.'));
const std::string kKataSignature = kKataJws.substr(kKataJws.rfind('.') + 1);

TEST(EcP256Test, VerifiesKataFixture) {
  auto key = EcP256PublicKey::FromJwk(nlohmann::json::parse(kKataPublicJwk));
  ASSERT_THAT(key, IsOk());
  std::string sig = *Base64UrlDecode(kKataSignature);
  EXPECT_TRUE(key->VerifyEs256(kKataSigningInput, sig).ok());
}

TEST(EcP256Test, RejectsTamperedMessageAndSignature) {
  auto key = EcP256PublicKey::FromJwk(nlohmann::json::parse(kKataPublicJwk));
  ASSERT_THAT(key, IsOk());
  std::string sig = *Base64UrlDecode(kKataSignature);
  std::string msg = kKataSigningInput;
  for (size_t offset : {0ul, 50ul, 200ul, msg.size() - 1}) {
    std::string m = msg;
    m[offset] ^= 0x01;
    EXPECT_THAT(key->VerifyEs256(m, sig), StatusIs(absl::StatusCode::kPermissionDenied)) << offset;
  }
  for (size_t offset : {0ul, 31ul, 32ul, 63ul}) {
    std::string s = sig;
    s[offset] ^= 0x80;
    EXPECT_THAT(key->VerifyEs256(msg, s), StatusIs(absl::StatusCode::kPermissionDenied)) << offset;
  }
  EXPECT_THAT(key->VerifyEs256(msg, sig.substr(0, 63)), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(EcP256Test, SignVerifyRoundTripWithImportedKey) {
  auto priv = EcP256PrivateKey::FromJwk(nlohmann::json::parse(kTestPrivateJwk));
  ASSERT_THAT(priv, IsOk());
  auto sig = priv->SignEs256("message");
  ASSERT_THAT(sig, IsOk());
  EXPECT_EQ(sig->size(), 64u);
  EXPECT_TRUE(priv->PublicKey().VerifyEs256("message", *sig).ok());
  EXPECT_THAT(priv->PublicKey().VerifyEs256("messagf", *sig), StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(priv->ToPublicJwk()["x"], "QT3_slJmispaOwnAo6hxebXGLRuiveFuRCLpS4j4S4k");
}

TEST(EcP256Test, GeneratedKeyExportsAndReimports) {
  auto key = EcP256PrivateKey::Generate();
  ASSERT_THAT(key, IsOk());
  SecretBytes jwk_text = key->ToPrivateJwkString(nlohmann::json{{"kid", "k1"}});
  auto jwk = nlohmann::json::parse(jwk_text.RevealString());
  EXPECT_EQ(jwk["kid"], "k1");
  auto again = EcP256PrivateKey::FromJwk(jwk);
  ASSERT_THAT(again, IsOk());
  auto sig = again->SignEs256("x");
  EXPECT_TRUE(key->PublicKey().VerifyEs256("x", *sig).ok());
}

TEST(EcP256Test, RejectsMalformedJwks) {
  auto base = nlohmann::json::parse(kKataPublicJwk);
  struct Case {
    const char* what;
    nlohmann::json jwk;
  };
  std::vector<Case> cases;
  auto with = [&](const char* k, nlohmann::json v) {
    auto j = base;
    j[k] = v;
    return j;
  };
  auto without = [&](const char* k) {
    auto j = base;
    j.erase(k);
    return j;
  };
  cases.push_back({"kty RSA", with("kty", "RSA")});
  cases.push_back({"crv P-384", with("crv", "P-384")});
  cases.push_back({"no x", without("x")});
  cases.push_back({"short x", with("x", "4jH376AuwTUCIx65AJ_56D7SZzWf7sGcEA7_Csq21U")});
  cases.push_back({"padded x", with("x", "4jH376AuwTUCIx65AJ_56D7SZzWf7sGcEA7_Csq21UM=")});
  // Off-curve: y changed in its last byte.
  cases.push_back({"off curve", with("y", "rjdceysnSa5ZfzWOPGCURMUuHndxBAGUu4ISTIVN0yE")});
  cases.push_back({"not an object", nlohmann::json::array()});
  for (const Case& c : cases) {
    auto key = EcP256PublicKey::FromJwk(c.jwk);
    EXPECT_THAT(key, StatusIs(absl::StatusCode::kInvalidArgument)) << c.what;
  }
}

// Coordinates are 32-byte strings, so they can encode values at or above the field prime p;
// such a point is not a P-256 point even if its coordinates reduced mod p would be.
TEST(EcP256Test, RejectsCoordinatesOutsideTheField) {
  const std::string p = absl::HexStringToBytes("ffffffff00000001000000000000000000000000ffffffffffffffffffffffff");
  auto valid = EcP256PublicKey::FromJwk(nlohmann::json::parse(kKataPublicJwk));
  ASSERT_THAT(valid, IsOk());
  EXPECT_THAT(EcP256PublicKey::FromCoordinates(p, valid->Y()), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(EcP256PublicKey::FromCoordinates(valid->X(), p), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(EcP256PublicKey::FromCoordinates(std::string(32, '\xff'), std::string(32, '\xff')),
              StatusIs(absl::StatusCode::kInvalidArgument));
  // (0, 0) would be the point at infinity in some encodings; it is not on the curve.
  EXPECT_THAT(EcP256PublicKey::FromCoordinates(std::string(32, '\0'), std::string(32, '\0')),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(EcP256PublicKey::FromCoordinates(valid->X(), valid->Y()), IsOk());
}

// The public point read back from a key (one encoded-point query) is the one it was made from.
TEST(EcP256Test, CoordinatesRoundTrip) {
  auto key = EcP256PrivateKey::Generate();
  ASSERT_THAT(key, IsOk());
  nlohmann::json jwk = key->ToPublicJwk();
  EcP256PublicKey pub = key->PublicKey();
  EXPECT_EQ(Base64UrlEncode(pub.X()), jwk["x"]);
  EXPECT_EQ(Base64UrlEncode(pub.Y()), jwk["y"]);
  auto again = EcP256PublicKey::FromCoordinates(pub.X(), pub.Y());
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(again->X(), pub.X());
  EXPECT_EQ(again->Y(), pub.Y());
}

TEST(EcP256Test, RejectsPrivateKeyNotMatchingPublic) {
  auto jwk = nlohmann::json::parse(kTestPrivateJwk);
  jwk["x"] = "4jH376AuwTUCIx65AJ_56D7SZzWf7sGcEA7_Csq21UM";
  jwk["y"] = "rjdceysnSa5ZfzWOPGCURMUuHndxBAGUu4ISTIVN0yA";
  EXPECT_THAT(EcP256PrivateKey::FromJwk(jwk), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace cdh::crypto
