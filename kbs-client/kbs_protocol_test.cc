// Wire messages of KBS protocol 0.4.0: the §2.5 known-answer vector, the
// tolerant parsing of, tokens and problem bodies.
#include "kbs-client/kbs_protocol.h"

#include "absl/strings/escaping.h"
#include "common/base64.h"
#include "common/json.h"
#include "common/testing/status_matchers.h"
#include "gtest/gtest.h"
#include "kbs-client/canonical_json.h"
#include "kbs-dev/kbs_server_messages.h"
#include "tests/kbs_kat_vectors.h"

namespace cdh::kbs {
namespace {

using ::cdh::testing::IsOk;
using ::cdh::testing::StatusIs;

nlohmann::json KatJwk() { return *ParseJson(kat::kTeeJwk, "jwk"); }

TEST(RuntimeDataTest, CanonicalBytesAndDigestMatchSpecVector) {
  auto canonical = CanonicalRuntimeData(kat::kNonce, KatJwk(), "");
  ASSERT_THAT(canonical, IsOk());
  EXPECT_EQ(*canonical, kat::kCanonicalRuntimeData);
  auto digest = RuntimeDataDigest(crypto::HashAlgorithm::kSha384, kat::kNonce, KatJwk(), "");
  ASSERT_THAT(digest, IsOk());
  EXPECT_EQ(absl::BytesToHexString(*digest), kat::kRuntimeDataSha384Hex);
  EXPECT_EQ(Base64StdEncode(*digest), kat::kSampleReportData);
}

TEST(RuntimeDataTest, DeviceRuntimeDataMatchesSpecVector) {
  nlohmann::json rd = {{"nonce", kat::kNonce}, {"tee-pubkey", KatJwk()}};
  auto canonical = CanonicalJson(rd);
  ASSERT_THAT(canonical, IsOk());
  EXPECT_EQ(*canonical, kat::kCanonicalDeviceRuntimeData);
  EXPECT_EQ(Base64StdEncode(crypto::Hash(crypto::HashAlgorithm::kSha384, *canonical)), kat::kDeviceReportData);
}

// Any difference in the bytes hashed changes the digest (an extra JWK member here).
TEST(RuntimeDataTest, ExtraJwkMemberChangesDigest) {
  nlohmann::json jwk = KatJwk();
  jwk["use"] = "enc";
  auto digest = RuntimeDataDigest(crypto::HashAlgorithm::kSha384, kat::kNonce, jwk, "");
  ASSERT_THAT(digest, IsOk());
  EXPECT_NE(absl::BytesToHexString(*digest), kat::kRuntimeDataSha384Hex);
}

TEST(CanonicalJsonTest, Rfc8785Rules) {
  auto j = ParseJson(R"({"b":"/+\n\u0001é","a":[1,true,null],"\u20ac":1,"\ud83d\ude00":2,"\ufb33":3})", "t");
  ASSERT_THAT(j, IsOk());
  auto c = CanonicalJson(*j);
  ASSERT_THAT(c, IsOk());
  // Keys by UTF-16 code units: "a" < "b" < U+20AC < U+1F600 (surrogate D83D) < U+FB33.
  EXPECT_EQ(*c,
            "{\"a\":[1,true,null],\"b\":\"/+\\n\\u0001\xc3\xa9\",\"\xe2\x82\xac\":1,"
            "\"\xf0\x9f\x98\x80\":2,\"\xef\xac\xb3\":3}");
  EXPECT_THAT(CanonicalJson(nlohmann::json(1.5)), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(CanonicalJson(nlohmann::json(std::string("\xff"))), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(AuthRequestTest, ExactBytes) {
  EXPECT_EQ(
      BuildAuthRequest("sample"),
      R"({"version":"0.4.0","tee":"sample","extra-params":{"supported-hash-algorithms":["sha256","sha384","sha512"]}})");
  auto parsed = ParseAuthRequest(BuildAuthRequest("tdx"));
  ASSERT_THAT(parsed, IsOk());
  EXPECT_EQ(parsed->version, "0.4.0");
  EXPECT_EQ(parsed->tee, "tdx");
  EXPECT_THAT(ParseAuthRequest(R"({"version":"0.4.0","tee":"sample"})"), StatusIs(absl::StatusCode::kInvalidArgument));
}

// Extra-params as "", null, absent or an object.
TEST(ChallengeTest, TolerantExtraParams) {
  for (const char* body : {R"({"nonce":"n","extra-params":""})", R"({"nonce":"n","extra-params":null})",
                           R"({"nonce":"n"})", R"({"nonce":"n","extra-params":{}})"}) {
    auto c = ParseChallenge(body);
    ASSERT_THAT(c, IsOk()) << body << " " << c.status();
    EXPECT_EQ(c->nonce, "n");
    EXPECT_EQ(c->hash, crypto::HashAlgorithm::kSha384) << body;
  }
  auto se = ParseChallenge(R"({"nonce":"n","extra-params":{"selected-hash-algorithm":"SHA512"}})");
  ASSERT_THAT(se, IsOk());
  EXPECT_EQ(se->hash, crypto::HashAlgorithm::kSha512);
  EXPECT_THAT(ParseChallenge(R"({"nonce":"n","extra-params":{"selected-hash-algorithm":"sm3"}})"),
              StatusIs(absl::StatusCode::kUnimplemented));
  EXPECT_THAT(ParseChallenge(R"({"nonce":"n","extra-params":{"selected-hash-algorithm":5}})"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseChallenge("<html>"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseChallenge(R"({"nonce":7})"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseChallenge(R"({"nonce":""})"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(BuildChallenge("abc"), R"({"nonce":"abc","extra-params":""})");
}

TEST(AttestRequestTest, MatchesSpecBodyAndRoundTrips) {
  AttestRequest r;
  r.nonce = kat::kNonce;
  r.tee_pubkey = KatJwk();
  r.primary_evidence = {{"svn", "1"}, {"report_data", kat::kSampleReportData}};
  r.additional_evidence = "";
  std::string body = BuildAttestRequest(r);
  // Same JSON value as the spec's body; member order of the top level and of the JWK as Rust.
  EXPECT_EQ(*ParseJson(body, "b"), *ParseJson(kat::kAttestBody, "spec"));
  EXPECT_EQ(body.substr(0, 110), std::string(kat::kAttestBody).substr(0, 110));
  auto parsed = ParseAttestRequest(body);
  ASSERT_THAT(parsed, IsOk());
  EXPECT_EQ(parsed->nonce, kat::kNonce);
  EXPECT_EQ(parsed->tee_pubkey, KatJwk());
  EXPECT_TRUE(parsed->init_data.is_null());
  EXPECT_THAT(ParseAttestRequest(R"({"runtime-data":{"nonce":"n"}})"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(TokenTest, SpecTokenClaims) {
  // kbs-protocol.md §3.6, token-parsing KAT from guest-components.
  auto c = ParseTokenClaims(
      "eyJhbGciOiJFUzI1NiIsImtpZCI6InNpbXBsZSIsInR5cCI6IkpXVCJ9.eyJpYXQiOjE2OTA3ODk2MTgsImV4cCI6MjAwNjE0OTYxOCwibmJm"
      "IjoxNjkwNzg5NjE4fQ._rGIt6XRHXfMiypJ38G55Qit5XiGEEQz1vvGjPE3jUJheJAbAfU4qR3BnsTVbchSTagwMgz2U45iA5eGiMo3sQ");
  ASSERT_THAT(c, IsOk());
  EXPECT_EQ(c->exp, 2006149618);
  EXPECT_EQ(c->nbf, 1690789618);
  EXPECT_EQ(c->iat, 1690789618);
  EXPECT_THAT(ParseTokenClaims("a.b"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseTokenClaims("a.!!.c"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseTokenClaims("a." + Base64UrlEncode(std::string(R"({"exp":"soon"})")) + ".c"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  auto no_exp = ParseTokenClaims("a." + Base64UrlEncode(std::string("{}")) + ".c");
  ASSERT_THAT(no_exp, IsOk());
  EXPECT_FALSE(no_exp->exp.has_value());
}

TEST(ProtocolJsonTest, NestingIsBounded) {
  std::string ok = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
  EXPECT_TRUE(ParseProtocolJson(ok, "t").ok());
  std::string deep = std::string(kMaxJsonDepth + 1, '[') + std::string(kMaxJsonDepth + 1, ']');
  EXPECT_THAT(ParseProtocolJson(deep, "t"), StatusIs(absl::StatusCode::kInvalidArgument));
  // Brackets inside strings (and escaped quotes) do not count.
  EXPECT_TRUE(ParseProtocolJson(R"({"a":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"{{{{"})", "t").ok());
  std::string huge(1 << 20, '[');  // a hostile challenge: rejected without recursion
  EXPECT_THAT(ParseChallenge(huge), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseAttestRequest(huge), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ProblemTest, ParsesTrusteeBodiesAndRejectsText) {
  auto p = ParseProblem(BuildProblem("PolicyDeny", "Access denied by policy"));
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->type, "PolicyDeny");
  EXPECT_EQ(p->detail, "Access denied by policy");
  EXPECT_FALSE(ParseProblem("Internal Server Error").has_value());
  EXPECT_FALSE(ParseProblem(R"({"detail":"x"})").has_value());
}

}  // namespace
}  // namespace cdh::kbs
