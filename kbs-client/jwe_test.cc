// JWE of the KBS resource response: the §3.6 known-answer vectors (both directions for EC), the
// negative table (truncation, bit flips, wrong algorithms), and
#include "kbs-client/jwe.h"

#include "absl/strings/escaping.h"
#include "common/base64.h"
#include "common/json.h"
#include "common/testing/status_matchers.h"
#include "crypto/hash.h"
#include "gtest/gtest.h"
#include "kbs-dev/kbs_server_messages.h"
#include "tests/kbs_kat_vectors.h"

namespace cdh::kbs {
namespace {

using ::cdh::testing::IsOk;
using ::cdh::testing::StatusIs;

TeeKey KatEcKey() {
  nlohmann::json jwk = *ParseJson(kat::kTeeJwk, "jwk");
  jwk["d"] = Base64UrlEncode(absl::HexStringToBytes(kat::kTeeD));
  return TeeKey::FromEc(std::move(crypto::EcP256PrivateKey::FromJwk(jwk)).value());
}
TeeKey KatRsaKey() {
  return TeeKey::FromRsa(std::move(crypto::RsaPrivateKey::FromPem(SecretBytes::FromString(kat::kRsaTeePem))).value());
}
std::string Bytes(uint8_t from, size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s.push_back(static_cast<char>(from + i));
  return s;
}
JweEncryptOptions KatOptions() {
  JweEncryptOptions o;
  nlohmann::json eph = *ParseJson(kat::kEcProtectedHeader, "h");
  o.ephemeral_private_jwk = eph["epk"];
  (*o.ephemeral_private_jwk)["d"] = Base64UrlEncode(absl::HexStringToBytes(kat::kKbsEphemeralD));
  o.cek = Bytes(0x00, 32);
  o.iv = Bytes(0xa0, 12);
  return o;
}

TEST(JweKatTest, EcDecryptsSpecVector) {
  auto pt = DecryptJwe(kat::kEcJwe, KatEcKey());
  ASSERT_THAT(pt, IsOk());
  EXPECT_EQ(pt->RevealString(), kat::kPlaintext);
}

TEST(JweKatTest, RsaDecryptsSpecVector) {
  auto pt = DecryptJwe(kat::kRsaJwe, KatRsaKey());
  ASSERT_THAT(pt, IsOk());
  EXPECT_EQ(pt->RevealString(), kat::kPlaintext);
}

// The server side reproduces Trustee's serialisation byte for byte (checklist §12.2 item 3).
TEST(JweKatTest, EcEncryptReproducesSpecBytes) {
  auto body = EncryptJwe(SecretBytes::FromString(kat::kPlaintext), *ParseJson(kat::kTeeJwk, "jwk"), KatOptions());
  ASSERT_THAT(body, IsOk());
  EXPECT_EQ(*body, kat::kEcJwe);
}

TEST(JweKatTest, JwkHasExactlyTheHashedMembers) {
  auto ec = TeeKey::Generate(TeeKeyAlgorithm::kEcP256);
  ASSERT_THAT(ec, IsOk());
  nlohmann::json jwk = ec->PublicJwk();
  EXPECT_EQ(jwk.size(), 5u);
  for (const char* k : {"kty", "crv", "alg", "x", "y"}) EXPECT_TRUE(jwk.contains(k)) << k;
  EXPECT_EQ(Base64UrlDecode(jwk["x"].get<std::string>())->size(), 32u);
  EXPECT_EQ(KatRsaKey().PublicJwk(), *ParseJson(kat::kRsaTeeJwk, "rsa"));
}

TEST(JweRoundTripTest, GeneratedKeysBothAlgorithms) {
  for (TeeKeyAlgorithm alg : {TeeKeyAlgorithm::kEcP256, TeeKeyAlgorithm::kRsa2048}) {
    auto key = TeeKey::Generate(alg);
    ASSERT_THAT(key, IsOk());
    SecretBytes secret = SecretBytes::FromString(std::string(1000, 's'));
    auto body = EncryptJwe(secret, key->PublicJwk());
    ASSERT_THAT(body, IsOk());
    auto pt = DecryptJwe(*body, *key);
    ASSERT_THAT(pt, IsOk());
    EXPECT_TRUE(pt->Equals(secret.Reveal()));
  }
}

// The broker draws CEK and IV fresh for every answer (one random draw split in two): two answers
// of the same secret to the same key share no IV, no wrapped key and no ciphertext.
TEST(JweRoundTripTest, EveryEncryptionDrawsAFreshCekAndIv) {
  auto key = TeeKey::Generate(TeeKeyAlgorithm::kEcP256);
  ASSERT_THAT(key, IsOk());
  SecretBytes secret = SecretBytes::FromString(std::string(32, 's'));
  auto first = EncryptJwe(secret, key->PublicJwk());
  auto second = EncryptJwe(secret, key->PublicJwk());
  ASSERT_THAT(first, IsOk());
  ASSERT_THAT(second, IsOk());
  nlohmann::json a = *ParseJson(*first, "a");
  nlohmann::json b = *ParseJson(*second, "b");
  EXPECT_EQ(Base64UrlDecode(a["iv"].get<std::string>())->size(), 12u);
  for (const char* member : {"iv", "encrypted_key", "ciphertext", "tag"}) EXPECT_NE(a[member], b[member]) << member;
  auto pt = DecryptJwe(*second, *key);
  ASSERT_THAT(pt, IsOk());
  EXPECT_TRUE(pt->Equals(secret.Reveal()));
}

// The AAD is the received `protected` string, whatever JSON text it encodes.
TEST(JweK5Test, HeaderWithSpacesUnsortedKeysOrNewlineDecrypts) {
  auto rewrites = std::vector<std::function<std::string(const std::string&)>>{
      [](const std::string& h) {
        nlohmann::json j = *ParseJson(h, "h");
        return "{ \"enc\" : \"A256GCM\",\n  \"epk\": " + j["epk"].dump(2) + ", \"alg\": \"ECDH-ES+A256KW\" }";
      },
      [](const std::string& h) { return h + "\n"; },
  };
  for (auto& rewrite : rewrites) {
    JweEncryptOptions o = KatOptions();
    o.rewrite_header_for_test = rewrite;
    auto body = EncryptJwe(SecretBytes::FromString(kat::kPlaintext), *ParseJson(kat::kTeeJwk, "jwk"), o);
    ASSERT_THAT(body, IsOk());
    auto pt = DecryptJwe(*body, KatEcKey());
    ASSERT_THAT(pt, IsOk());
    EXPECT_EQ(pt->RevealString(), kat::kPlaintext);
  }
}

// Negative table: one mutation of the EC known-answer JWE per row.
struct NegativeCase {
  const char* name;
  std::function<void(nlohmann::ordered_json&)> mutate;
  absl::StatusCode code;
};

std::string FlipB64(const std::string& b64, size_t byte) {
  std::string raw = *Base64UrlDecode(b64);
  raw[byte % raw.size()] ^= 0x01;
  return Base64UrlEncode(raw);
}
void SetHeader(nlohmann::ordered_json& jwe, const std::function<void(nlohmann::ordered_json&)>& edit) {
  auto h = nlohmann::ordered_json::parse(*Base64UrlDecode(jwe["protected"].get<std::string>()));
  edit(h);
  jwe["protected"] = Base64UrlEncode(h.dump());
}

TEST(JweNegativeTest, Table) {
  using C = absl::StatusCode;
  std::vector<NegativeCase> cases = {
      {"wrong epk curve", [](auto& j) { SetHeader(j, [](auto& h) { h["epk"]["crv"] = "P-384"; }); }, C::kDataLoss},
      {"epk kty not EC", [](auto& j) { SetHeader(j, [](auto& h) { h["epk"]["kty"] = "OKP"; }); }, C::kDataLoss},
      {"epk off the curve",
       [](auto& j) {
         SetHeader(j, [](auto& h) { h["epk"]["y"] = FlipB64(h["epk"]["y"].template get<std::string>(), 31); });
       },
       C::kDataLoss},
      {"epk short coordinate",
       [](auto& j) {
         SetHeader(j, [](auto& h) {
           h["epk"]["x"] = Base64UrlEncode(Base64UrlDecode(h["epk"]["x"].template get<std::string>())->substr(1));
         });
       },
       C::kDataLoss},
      {"epk missing", [](auto& j) { SetHeader(j, [](auto& h) { h.erase("epk"); }); }, C::kDataLoss},
      {"padded base64 protected", [](auto& j) { j["protected"] = j["protected"].template get<std::string>() + "="; },
       C::kDataLoss},
      {"padded base64 tag", [](auto& j) { j["tag"] = j["tag"].template get<std::string>() + "=="; }, C::kDataLoss},
      {"standard alphabet tag",
       [](auto& j) { j["tag"] = Base64StdEncode(*Base64UrlDecode(j["tag"].template get<std::string>())); },
       C::kDataLoss},
      {"tampered tag", [](auto& j) { j["tag"] = FlipB64(j["tag"], 3); }, C::kDataLoss},
      {"tampered ciphertext", [](auto& j) { j["ciphertext"] = FlipB64(j["ciphertext"], 0); }, C::kDataLoss},
      {"tampered iv", [](auto& j) { j["iv"] = FlipB64(j["iv"], 5); }, C::kDataLoss},
      {"tampered encrypted_key", [](auto& j) { j["encrypted_key"] = FlipB64(j["encrypted_key"], 20); }, C::kDataLoss},
      {"tampered protected (extra member)", [](auto& j) { SetHeader(j, [](auto& h) { h["kid"] = "x"; }); },
       C::kDataLoss},
      {"protected re-serialised with a space",
       [](auto& j) {
         std::string h = *Base64UrlDecode(j["protected"].template get<std::string>());
         j["protected"] = Base64UrlEncode("{ " + h.substr(1));
       },
       C::kDataLoss},
      {"unsupported alg RSA1_5", [](auto& j) { SetHeader(j, [](auto& h) { h["alg"] = "RSA1_5"; }); }, C::kDataLoss},
      {"unsupported alg dir", [](auto& j) { SetHeader(j, [](auto& h) { h["alg"] = "dir"; }); }, C::kDataLoss},
      {"alg of the other key type", [](auto& j) { SetHeader(j, [](auto& h) { h["alg"] = "RSA-OAEP-256"; }); },
       C::kDataLoss},
      {"unsupported enc", [](auto& j) { SetHeader(j, [](auto& h) { h["enc"] = "A128GCM"; }); }, C::kDataLoss},
      {"15-byte tag",
       [](auto& j) { j["tag"] = Base64UrlEncode(Base64UrlDecode(j["tag"].template get<std::string>())->substr(1)); },
       C::kDataLoss},
      {"legacy tag appended to ciphertext",
       [](auto& j) {
         j["ciphertext"] = Base64UrlEncode(*Base64UrlDecode(j["ciphertext"].template get<std::string>()) +
                                           *Base64UrlDecode(j["tag"].template get<std::string>()));
         j.erase("tag");
       },
       C::kDataLoss},
      {"11-byte iv",
       [](auto& j) { j["iv"] = Base64UrlEncode(Base64UrlDecode(j["iv"].template get<std::string>())->substr(1)); },
       C::kDataLoss},
      {"short encrypted_key",
       [](auto& j) {
         j["encrypted_key"] =
             Base64UrlEncode(Base64UrlDecode(j["encrypted_key"].template get<std::string>())->substr(8));
       },
       C::kDataLoss},
      {"member not a string", [](auto& j) { j["iv"] = 12; }, C::kDataLoss},
      {"protected not JSON", [](auto& j) { j["protected"] = Base64UrlEncode(std::string("alg=x")); }, C::kDataLoss},
  };
  TeeKey key = KatEcKey();
  for (const auto& c : cases) {
    auto jwe = nlohmann::ordered_json::parse(kat::kEcJwe);
    c.mutate(jwe);
    auto pt = DecryptJwe(jwe.dump(), key);
    ASSERT_FALSE(pt.ok()) << c.name;
    EXPECT_THAT(pt, StatusIs(c.code)) << c.name;
  }
  EXPECT_THAT(DecryptJwe("not json", key), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(DecryptJwe("[]", key), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(DecryptJwe(kat::kEcJwe, KatRsaKey()), StatusIs(absl::StatusCode::kDataLoss));
  // A truncated body at every length is an error, never a crash.
  std::string full = kat::kEcJwe;
  for (size_t n = 0; n < full.size(); n += 13)
    EXPECT_THAT(DecryptJwe(full.substr(0, n), key), StatusIs(absl::StatusCode::kDataLoss)) << n;
}

TEST(JweEncryptTest, RejectsUnsupportedTeePubkeys) {
  SecretBytes pt = SecretBytes::FromString("x");
  EXPECT_THAT(EncryptJwe(pt, {{"kty", "RSA"}, {"alg", "RSA1_5"}, {"n", "AQAB"}, {"e", "AQAB"}}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  nlohmann::json jwk = *ParseJson(kat::kTeeJwk, "jwk");
  jwk["x"] = jwk["x"].get<std::string>() + "=";
  EXPECT_THAT(EncryptJwe(pt, jwk), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace cdh::kbs
