#include "resources/secret/secret_unsealer.h"

#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "common/base64.h"
#include "common/file_util.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "resources/fake_resource_provider.h"
#include "tests/spec_vectors.h"

namespace cdh::resources {
namespace {

using ::cdh::testing::IsOk;
using ::cdh::testing::StatusIs;

using namespace ::cdh::testing;  // NOLINT: the spec vectors

class SecretUnsealerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_dir_ = root_ + "/sealed-secret";
    std::filesystem::create_directories(key_dir_);
    nlohmann::json pub = nlohmann::json::parse(kTestPrivateJwk);
    pub.erase("d");
    ASSERT_TRUE(WriteFileAtomic(key_dir_ + "/test-key", pub.dump(), 0644).ok());
    provider_.Put("default/signing-key/sealed-secret", kKataPublicJwk);
    provider_.Put("default/sealed-secret/test", "unsealed_secret");
    provider_.Put("one/2/trois", "trois\n");
  }

  std::unique_ptr<SecretUnsealer> Make(bool skip = false, std::string key_dir = "") {
    std::map<std::string, std::unique_ptr<SecretGetter>> getters;
    getters["kbs"] = std::make_unique<KbsSecretGetter>(provider_);
    return std::make_unique<SecretUnsealer>(SecretUnsealerOptions{skip, key_dir.empty() ? key_dir_ : key_dir},
                                            provider_, std::move(getters), nullptr);
  }

  // Signs `payload` with the unit-test key under `header`.
  static std::string Seal(const std::string& header, const std::string& payload) {
    auto key = crypto::EcP256PrivateKey::FromJwk(nlohmann::json::parse(kTestPrivateJwk));
    std::string input = Base64UrlEncode(header) + "." + Base64UrlEncode(payload);
    return "sealed." + input + "." + Base64UrlEncode(*key->SignEs256(input));
  }
  static std::string VaultPayload(const std::string& name) {
    return SerializeVaultPayload(VaultSecret{name, "kbs", nlohmann::json::object(), nlohmann::json::object()});
  }

  absl::StatusOr<SecretBytes> Unseal(SecretUnsealer& u, std::string_view s) { return u.Unseal(s, CallContext{}); }

  testing::TempDir tmp_{"cdh-unseal"};
  std::string root_ = tmp_.path();
  std::string key_dir_;
  FakeResourceProvider provider_;
};

TEST_F(SecretUnsealerTest, KataFixtureUnsealsToResourceBytes) {
  auto u = Make();
  auto plaintext = Unseal(*u, kKataSealed);
  ASSERT_THAT(plaintext, IsOk());
  EXPECT_EQ(plaintext->RevealString(), "unsealed_secret");
  // Two resource fetches: the verification key and the secret (cdh-api.md §7.4).
  EXPECT_EQ(provider_.calls(), 2);
}

TEST_F(SecretUnsealerTest, LocalKidVectorUnsealsByteExact) {
  auto u = Make();
  auto plaintext = Unseal(*u, kLocalSealed);
  ASSERT_THAT(plaintext, IsOk());
  EXPECT_EQ(plaintext->RevealString(), "trois\n");  // no trimming of the plaintext
}

// cdh-api.md §15 vector 2 negative variants (guest-components' check_tampering).
TEST_F(SecretUnsealerTest, TamperingAtAnyOffsetFails) {
  auto u = Make();
  std::string good = kLocalSealed;
  for (size_t offset : {50ul, 200ul, 250ul, 10ul, good.size() - 2}) {
    std::string bad = good;
    bad[offset] = bad[offset] == 'A' ? 'B' : 'A';
    auto r = Unseal(*u, bad);
    // A flipped byte breaks either the encoding (INVALID_ARGUMENT) or the signature (PERMISSION_DENIED).
    EXPECT_THAT(r.status().code(),
                ::testing::AnyOf(absl::StatusCode::kInvalidArgument, absl::StatusCode::kPermissionDenied))
        << offset << ": " << r.status();
  }
}

TEST_F(SecretUnsealerTest, FieldCaseS2) {
  auto verifying = Make(false);
  auto skipping = Make(true);
  // (a) legacy with verification on: rejected, and the message says how to accept it.
  auto a = Unseal(*verifying, kLegacySealed);
  EXPECT_THAT(a, StatusIs(absl::StatusCode::kInvalidArgument, "skip_sealed_secret_verification"));
  // (b) accepted with verification disabled.
  auto b = Unseal(*skipping, kLegacySealed);
  ASSERT_THAT(b, IsOk());
  EXPECT_EQ(b->RevealString(), "unsealed_secret");
  // (c) valid ES256 with a kbs:/// kid.
  provider_.Put("default/keys/signer", [] {
    auto j = nlohmann::json::parse(kTestPrivateJwk);
    j.erase("d");
    return j.dump();
  }());
  std::string c = Seal(R"({"b64":true,"alg":"ES256","kid":"kbs:///default/keys/signer"})",
                       VaultPayload("kbs:///default/sealed-secret/test"));
  auto rc = Unseal(*verifying, c);
  ASSERT_THAT(rc, IsOk());
  EXPECT_EQ(rc->RevealString(), "unsealed_secret");
  // (d) ES384.
  auto d = Unseal(*verifying, Seal(R"({"alg":"ES384","kid":"test-key"})", VaultPayload("kbs:///r/t/g")));
  EXPECT_THAT(d, StatusIs(absl::StatusCode::kInvalidArgument, "ES256"));
  // (e) no kid.
  auto e = Unseal(*verifying, Seal(R"({"alg":"ES256"})", VaultPayload("kbs:///r/t/g")));
  EXPECT_THAT(e, StatusIs(absl::StatusCode::kInvalidArgument, "kid"));
  // (f) one flipped signature byte.
  std::string f = c;
  std::string sig = *Base64UrlDecode(f.substr(f.rfind('.') + 1));
  sig[10] ^= 0x01;
  f = f.substr(0, f.rfind('.') + 1) + Base64UrlEncode(sig);
  EXPECT_THAT(Unseal(*verifying, f), StatusIs(absl::StatusCode::kPermissionDenied));
  // (g) payload changed after signing.
  std::string g = c;
  size_t p1 = g.find('.', 7), p2 = g.rfind('.');
  g = g.substr(0, p1 + 1) + Base64UrlEncode(VaultPayload("kbs:///default/other/secret")) + g.substr(p2);
  auto rg = Unseal(*verifying, g);
  EXPECT_THAT(rg, StatusIs(absl::StatusCode::kPermissionDenied, "signature does not verify"));
}

TEST_F(SecretUnsealerTest, TrailingNewlineFromSecretFileIsAccepted) {
  auto u = Make();
  auto r = Unseal(*u, std::string(kKataSealed) + "\r\n");
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->RevealString(), "unsealed_secret");
}

TEST_F(SecretUnsealerTest, KidPathEscapesAreRefused) {
  std::filesystem::create_directories(root_ + "/outside");
  ASSERT_TRUE(WriteFileAtomic(root_ + "/outside/evil", "{}", 0644).ok());
  std::filesystem::create_symlink(root_ + "/outside/evil", key_dir_ + "/link");
  auto u = Make();
  for (const char* kid : {"../outside/evil", "/etc/passwd", "a/../../outside/evil", "link"}) {
    auto r = Unseal(*u, Seal(StrCat(R"({"alg":"ES256","kid":")", kid, R"("})"), VaultPayload("kbs:///r/t/g")));
    EXPECT_THAT(r, StatusIs(absl::StatusCode::kInvalidArgument)) << kid << ": " << r.status();
  }
  auto missing = Unseal(*u, Seal(R"({"alg":"ES256","kid":"nope"})", VaultPayload("kbs:///r/t/g")));
  EXPECT_THAT(missing, StatusIs(absl::StatusCode::kNotFound));
  auto no_dir = Make(false, root_ + "/does-not-exist");
  auto r = Unseal(*no_dir, kLocalSealed);
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(SecretUnsealerTest, KeyOrSecretProblemsKeepTheirCodes) {
  auto u = Make();
  // Verification key is not a JWK.
  provider_.Put("default/keys/junk", "not json");
  auto junk = Unseal(*u, Seal(R"({"alg":"ES256","kid":"kbs:///default/keys/junk"})", VaultPayload("kbs:///r/t/g")));
  EXPECT_THAT(junk, StatusIs(absl::StatusCode::kInvalidArgument));
  // Verification key missing at the broker.
  auto missing = Unseal(*u, Seal(R"({"alg":"ES256","kid":"kbs:///default/keys/none"})", VaultPayload("kbs:///r/t/g")));
  EXPECT_THAT(missing, StatusIs(absl::StatusCode::kNotFound));
  // The secret itself missing.
  auto no_secret = Unseal(*u, Seal(R"({"alg":"ES256","kid":"test-key"})", VaultPayload("kbs:///r/t/none")));
  EXPECT_THAT(no_secret, StatusIs(absl::StatusCode::kNotFound));
  // The vault name is not a resource URI.
  auto bad_name = Unseal(*u, Seal(R"({"alg":"ES256","kid":"test-key"})", VaultPayload("default/r/t")));
  EXPECT_THAT(bad_name, StatusIs(absl::StatusCode::kInvalidArgument));
  // Unknown vault provider.
  auto aliyun = Unseal(
      *u, Seal(R"({"alg":"ES256","kid":"test-key"})",
               SerializeVaultPayload(VaultSecret{"n", "aliyun", nlohmann::json::object(), nlohmann::json::object()})));
  EXPECT_THAT(aliyun, StatusIs(absl::StatusCode::kUnimplemented, "aliyun"));
  // The broker is down: UNAVAILABLE reaches the caller unchanged.
  provider_.FailWith(absl::UnavailableError("broker unreachable"));
  EXPECT_THAT(Unseal(*u, kKataSealed), StatusIs(absl::StatusCode::kUnavailable));
}

TEST_F(SecretUnsealerTest, EnvelopeVectorVerifiesThenNeedsADecryptor) {
  auto u = Make();
  auto r = Unseal(*u, kEnvelopeSealed);
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kUnimplemented)) << r.status();
}

// Values from the untrusted sealed secret never reach a message (or the log) with control
// characters: no forged log lines.
TEST_F(SecretUnsealerTest, UntrustedHeaderValuesCannotForgeLogLines) {
  auto u = Make();
  auto kid = Unseal(*u, Seal(R"({"alg":"ES256","kid":"k\n[cdh] [info] FORGED"})", VaultPayload("kbs:///r/t/g")));
  EXPECT_THAT(kid, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(kid.status().message()), ::testing::Not(::testing::HasSubstr("\n"))) << kid.status();
  auto alg = Unseal(*u, Seal(R"({"alg":"ES\n[cdh] FORGED","kid":"test-key"})", VaultPayload("kbs:///r/t/g")));
  EXPECT_THAT(alg, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(alg.status().message()), ::testing::Not(::testing::HasSubstr("\n"))) << alg.status();
  auto long_kid = Unseal(
      *u, Seal(StrCat(R"({"alg":"ES256","kid":")", std::string(5000, 'k'), R"("})"), VaultPayload("kbs:///r/t/g")));
  EXPECT_LT(long_kid.status().message().size(), 400u) << "untrusted values are truncated";
}

TEST_F(SecretUnsealerTest, ErrorMessagesNeverContainThePlaintext) {
  provider_.Put("default/keys/junk", "TOP-SECRET-KEY-MATERIAL");
  auto u = Make();
  auto r = Unseal(*u, Seal(R"({"alg":"ES256","kid":"kbs:///default/keys/junk"})", VaultPayload("kbs:///r/t/g")));
  ASSERT_THAT(r, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(r.status().message()), ::testing::Not(::testing::HasSubstr("TOP-SECRET")));
}

}  // namespace
}  // namespace cdh::resources
