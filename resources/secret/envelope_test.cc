#include "resources/secret/envelope.h"

#include <filesystem>

#include <gtest/gtest.h>

#include "common/base64.h"
#include "common/file_util.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "crypto/aes.h"
#include "resources/fake_resource_provider.h"
#include "resources/kms/fake_kms.h"
#include "resources/kms/kbs_kms.h"
#include "tests/spec_vectors.h"

namespace cdh::resources {
namespace {

using ::cdh::testing::IsOk;
using ::cdh::testing::StatusIs;

using namespace ::cdh::testing;  // NOLINT: the spec vectors

std::string Dek0To31() {
  std::string k;
  for (int i = 0; i < 32; ++i) k.push_back(static_cast<char>(i));
  return k;
}

class EnvelopeTest : public ::testing::Test {
 protected:
  EnvelopeTest() {
    registry_.Register("aliyun", [](const nlohmann::json&) -> absl::StatusOr<std::unique_ptr<KmsDecryptor>> {
      return std::make_unique<FakeKms>("opaque-kms-ciphertext", "key-test", Dek0To31());
    });
    registry_.Register("kbs", [this](const nlohmann::json&) -> absl::StatusOr<std::unique_ptr<KmsDecryptor>> {
      return std::make_unique<KbsKms>(provider_);
    });
  }
  EnvelopeSecret Vector3() {
    auto jws = ParseSignedSealedSecret(kEnvelopeSealed);
    auto payload = ParseSecretPayload(jws->payload_json);
    return std::get<EnvelopeSecret>(*payload);
  }
  absl::StatusOr<SecretBytes> Open(const EnvelopeSecret& e) { return decryptor_.Decrypt(e, CallContext{}); }

  FakeResourceProvider provider_;
  KmsRegistry registry_;
  KmsEnvelopeDecryptor decryptor_{registry_};
};

TEST_F(EnvelopeTest, SpecVector3UnsealsThroughSignatureAndKms) {
  testing::TempDir tmp("cdh-env");
  std::string dir = tmp.path();
  ASSERT_TRUE(WriteFileAtomic(dir + "/test-key", kTestPublicJwk, 0644).ok());
  std::map<std::string, std::unique_ptr<SecretGetter>> getters;
  SecretUnsealer unsealer({false, dir}, provider_, std::move(getters), &decryptor_);
  auto plaintext = unsealer.Unseal(kEnvelopeSealed, CallContext{});
  ASSERT_THAT(plaintext, IsOk());
  EXPECT_EQ(plaintext->RevealString(), "hello-cdh");
}

TEST_F(EnvelopeTest, NegativeTable) {
  struct Case {
    const char* name;
    std::function<void(EnvelopeSecret&)> mutate;
    absl::StatusCode code;
    const char* message_part;
  };
  std::vector<Case> cases = {
      {"bad base64 encrypted_key", [](auto& e) { e.encrypted_key = "b3Bh*"; }, absl::StatusCode::kInvalidArgument,
       "encrypted_key"},
      {"url-safe encrypted_data", [](auto& e) { e.encrypted_data = "L2e6d6rIoX_lMT1j"; },
       absl::StatusCode::kInvalidArgument, "encrypted_data"},
      {"unpadded iv", [](auto& e) { e.iv = "AAECAwQFBgcICQo"; }, absl::StatusCode::kInvalidArgument, "`iv`"},
      {"iv of 16 bytes for GCM", [](auto& e) { e.iv = Base64StdEncode(std::string(16, 'a')); },
       absl::StatusCode::kInvalidArgument, "12 bytes"},
      {"truncated below tag", [](auto& e) { e.encrypted_data = Base64StdEncode(std::string(15, 'a')); },
       absl::StatusCode::kInvalidArgument, "shorter"},
      {"truncated ciphertext",
       [](auto& e) { e.encrypted_data = Base64StdEncode(Base64StdDecode(e.encrypted_data)->substr(1)); },
       absl::StatusCode::kPermissionDenied, "authentication"},
      {"flipped tag bit",
       [](auto& e) {
         auto d = *Base64StdDecode(e.encrypted_data);
         d.back() ^= 1;
         e.encrypted_data = Base64StdEncode(d);
       },
       absl::StatusCode::kPermissionDenied, "authentication"},
      {"flipped data bit",
       [](auto& e) {
         auto d = *Base64StdDecode(e.encrypted_data);
         d[0] ^= 0x80;
         e.encrypted_data = Base64StdEncode(d);
       },
       absl::StatusCode::kPermissionDenied, "authentication"},
      {"unknown wrap_type", [](auto& e) { e.wrap_type = "A128GCM"; }, absl::StatusCode::kInvalidArgument, "wrap_type"},
      {"lower-case wrap_type", [](auto& e) { e.wrap_type = "a256gcm"; }, absl::StatusCode::kInvalidArgument,
       "wrap_type"},
      {"unknown provider", [](auto& e) { e.provider = "azure"; }, absl::StatusCode::kUnimplemented, "azure"},
      {"wrong key id", [](auto& e) { e.key_id = "other"; }, absl::StatusCode::kNotFound, "other"},
      {"wrong wrapped key", [](auto& e) { e.encrypted_key = Base64StdEncode(std::string("x")); },
       absl::StatusCode::kPermissionDenied, "unwrapping"},
      {"empty wrapped key", [](auto& e) { e.encrypted_key = ""; }, absl::StatusCode::kInvalidArgument, "encrypted_key"},
  };
  for (const Case& c : cases) {
    EnvelopeSecret e = Vector3();
    c.mutate(e);
    auto r = Open(e);
    EXPECT_THAT(r, StatusIs(c.code)) << c.name;
    EXPECT_THAT(std::string(r.status().message()), ::testing::HasSubstr(c.message_part))
        << c.name << ": " << r.status();
  }
  auto good = Open(Vector3());
  ASSERT_THAT(good, IsOk());
  EXPECT_EQ(good->RevealString(), "hello-cdh");
}

TEST_F(EnvelopeTest, CtrWrapTypeAsUpstreamAcceptsIt) {
  SecretBytes dek = SecretBytes::FromString(Dek0To31());
  std::string iv(16, '\x07');
  auto ct = crypto::Aes256CtrCrypt(dek, iv, "counter mode secret");
  EnvelopeSecret e = Vector3();
  e.wrap_type = "A256CTR";
  e.iv = Base64StdEncode(iv);
  e.encrypted_data = Base64StdEncode(ct->RevealString());
  auto r = Open(e);
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->RevealString(), "counter mode secret");
  e.iv = Base64StdEncode(std::string(12, 'a'));
  EXPECT_THAT(Open(e), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(EnvelopeTest, KbsProviderRoundTrip) {
  std::string kek(32, '\x42');
  provider_.Put("default/kek/1", kek);
  auto sealed = SealEnvelopeForKbs("database password", SecretBytes::FromString(kek), "kbs:///default/kek/1");
  ASSERT_THAT(sealed, IsOk());
  auto r = Open(*sealed);
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->RevealString(), "database password");
  // A different KEK at the broker: the wrapped key does not authenticate.
  provider_.Put("default/kek/1", std::string(32, '\x43'));
  EXPECT_THAT(Open(*sealed), StatusIs(absl::StatusCode::kPermissionDenied));
  // Sealing checks its inputs.
  EXPECT_THAT(SealEnvelopeForKbs("x", SecretBytes(16), "kbs:///a/b/c"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(SealEnvelopeForKbs("x", SecretBytes(32), "not-a-uri"), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace cdh::resources
