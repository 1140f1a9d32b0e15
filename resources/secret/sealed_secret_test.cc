#include "resources/secret/sealed_secret.h"

#include <gtest/gtest.h>

#include "common/base64.h"
#include "common/testing/status_matchers.h"

namespace cdh::resources {
namespace {

using ::cdh::testing::IsOk;
using ::cdh::testing::StatusIs;

std::string B64(std::string_view s) { return Base64UrlEncode(s); }
const std::string kHeader = B64(R"({"b64":true,"alg":"ES256","kid":"kbs:///a/b/c"})");
const std::string kPayload = B64(
    R"({"version":"0.1.0","type":"vault","name":"kbs:///r/t/g","provider":"kbs","provider_settings":{},"annotations":{}})");
const std::string kSig = B64(std::string(64, 'x'));

TEST(SealedSecretTest, ParsesSignedForm) {
  auto s = ParseSignedSealedSecret("sealed." + kHeader + "." + kPayload + "." + kSig);
  ASSERT_THAT(s, IsOk());
  EXPECT_EQ(s->kid, "kbs:///a/b/c");
  EXPECT_EQ(s->alg, "ES256");
  EXPECT_EQ(s->signing_input, kHeader + "." + kPayload);
  EXPECT_EQ(s->signature.size(), 64u);
}

// The kata agent sends secret files untrimmed.
TEST(SealedSecretTest, TrailingWhitespaceIsIgnored) {
  for (const char* tail : {"\n", "\r\n", "  \n\n", "\t"}) {
    auto s = ParseSignedSealedSecret("sealed." + kHeader + "." + kPayload + "." + kSig + tail);
    EXPECT_THAT(s, IsOk());
    EXPECT_EQ(s->signature.size(), 64u);
  }
}

struct Bad {
  std::string name;
  std::string input;
  std::string message_part;
};

class SealedSecretRejectTest : public ::testing::TestWithParam<Bad> {};

TEST_P(SealedSecretRejectTest, RejectsWithNamedReason) {
  auto s = ParseSignedSealedSecret(GetParam().input);
  ASSERT_FALSE(s.ok()) << GetParam().name;
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument)) << GetParam().name;
  EXPECT_THAT(std::string(s.status().message()), ::testing::HasSubstr(GetParam().message_part))
      << GetParam().name << ": " << s.status();
}

INSTANTIATE_TEST_SUITE_P(
    Table, SealedSecretRejectTest,
    ::testing::Values(
        Bad{"no prefix", kHeader + "." + kPayload + "." + kSig, "must begin with `sealed.`"},
        Bad{"leading space", " sealed." + kHeader + "." + kPayload + "." + kSig, "must begin with `sealed.`"},
        Bad{"two parts", "sealed." + kHeader + "." + kPayload, "3 JWS parts"},
        Bad{"four parts", "sealed.a." + kPayload + ".b.c", "3 JWS parts"},
        Bad{"legacy fake header", "sealed.fakejwsheader." + kPayload + ".fakesignature",
            "skip_sealed_secret_verification"},
        Bad{"five parts", "sealed.a.b.c.d.e", "3 JWS parts"},
        Bad{"double prefix", "sealed.sealed." + kHeader + "." + kPayload + "." + kSig, "parts"},
        Bad{"padded payload", "sealed." + kHeader + "." + kPayload + "==." + kSig, "padding"},
        Bad{"standard base64 sig", "sealed." + kHeader + "." + kPayload + ".ab+/", "standard base64"},
        Bad{"header not JSON", "sealed." + B64("{nope") + "." + kPayload + "." + kSig, "not a JSON object"},
        Bad{"header not object", "sealed." + B64("[1]") + "." + kPayload + "." + kSig, "JSON object"},
        Bad{"no alg", "sealed." + B64(R"({"kid":"k"})") + "." + kPayload + "." + kSig, "no `alg`"},
        Bad{"no kid", "sealed." + B64(R"({"alg":"ES256"})") + "." + kPayload + "." + kSig, "no `kid`"},
        Bad{"empty kid", "sealed." + B64(R"({"alg":"ES256","kid":""})") + "." + kPayload + "." + kSig, "no `kid`"},
        Bad{"b64 false", "sealed." + B64(R"({"alg":"ES256","kid":"k","b64":false})") + "." + kPayload + "." + kSig,
            "`b64`"},
        Bad{"crit", "sealed." + B64(R"({"alg":"ES256","kid":"k","crit":["x"]})") + "." + kPayload + "." + kSig,
            "`crit`"},
        Bad{"empty payload", "sealed." + kHeader + ".." + kSig, "empty payload"},
        Bad{"binary junk", std::string("sealed.\xff\xfe\x00\x01", 11), "UTF-8"},
        Bad{"oversize", "sealed." + std::string(kMaxSealedSecretSize, 'a'), "larger than"}),
    [](const ::testing::TestParamInfo<Bad>& info) {
      std::string n;
      for (char c : info.param.name) n.push_back(std::isalnum(static_cast<unsigned char>(c)) ? c : '_');
      return n;
    });

TEST(SealedSecretTest, LegacyFormNeedsFourParts) {
  // cdh-api.md §15 vector 4.
  const char* legacy =
      "sealed.fakejwsheader.eyJ2ZXJzaW9uIjoiMC4xLjAiLCJ0eXBlIjoidmF1bHQiLCJuYW1lIjoia2JzOi8vL2RlZmF1bHQvc2VhbGVkLXNl"
      "Y3JldC90ZXN0IiwicHJvdmlkZXIiOiJrYnMiLCJwcm92aWRlcl9zZXR0aW5ncyI6e30sImFubm90YXRpb25zIjp7fX0.fakesignature";
  auto payload = ParseLegacySealedSecret(legacy);
  ASSERT_THAT(payload, IsOk());
  EXPECT_NE(payload->find("kbs:///default/sealed-secret/test"), std::string::npos);
  EXPECT_THAT(ParseLegacySealedSecret("sealed.a.b"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseSignedSealedSecret(legacy), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(SecretPayloadTest, ParsesVaultAndEnvelope) {
  auto v = ParseSecretPayload(
      R"({"version":"0.1.0","type":"vault","name":"kbs:///r/t/g","provider":"KBS","provider_settings":{},"annotations":{"a":1}})");
  ASSERT_THAT(v, IsOk());
  auto& vault = std::get<VaultSecret>(*v);
  EXPECT_EQ(vault.provider, "kbs");
  EXPECT_EQ(vault.annotations["a"], 1);
  auto e = ParseSecretPayload(
      R"({"version":"0.1.0","type":"envelope","key_id":"k","encrypted_key":"YQ==","encrypted_data":"YQ==","wrap_type":"A256GCM","iv":"YQ==","provider":"aliyun","provider_settings":{},"annotations":{}})");
  ASSERT_THAT(e, IsOk());
  EXPECT_EQ(std::get<EnvelopeSecret>(*e).key_id, "k");
}

TEST(SecretPayloadTest, RejectsEachMissingOrBadField) {
  const nlohmann::json vault = nlohmann::json::parse(
      R"({"version":"0.1.0","type":"vault","name":"n","provider":"kbs","provider_settings":{},"annotations":{}})");
  for (const char* field : {"version", "type", "name", "provider", "provider_settings", "annotations"}) {
    nlohmann::json j = vault;
    j.erase(field);
    auto r = ParseSecretPayload(j.dump());
    EXPECT_THAT(r, StatusIs(absl::StatusCode::kInvalidArgument)) << field;
    EXPECT_THAT(std::string(r.status().message()), ::testing::HasSubstr(field)) << r.status();
  }
  nlohmann::json j = vault;
  j["version"] = "0.2.0";
  EXPECT_THAT(std::string(ParseSecretPayload(j.dump()).status().message()), ::testing::HasSubstr("only 0.1.0"));
  j = vault;
  j["type"] = "other";
  EXPECT_THAT(ParseSecretPayload(j.dump()), StatusIs(absl::StatusCode::kInvalidArgument));
  j = vault;
  j["annotations"] = "x";
  EXPECT_THAT(ParseSecretPayload(j.dump()), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseSecretPayload("[]"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseSecretPayload("{"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(SecretPayloadTest, SerializesInUpstreamOrder) {
  VaultSecret v{"kbs:///default/sealed-secret/test", "kbs", nlohmann::json::object(), nlohmann::json::object()};
  // The payload of the kata CI fixture (cdh-api.md §15 vector 1), byte for byte.
  EXPECT_EQ(
      SerializeVaultPayload(v),
      R"({"version":"0.1.0","type":"vault","name":"kbs:///default/sealed-secret/test","provider":"kbs","provider_settings":{},"annotations":{}})");
}

}  // namespace
}  // namespace cdh::resources
