#include "resources/kms/kbs_kms.h"

#include <gtest/gtest.h>

#include "common/base64.h"
#include "crypto/aes.h"
#include "resources/fake_resource_provider.h"

namespace cdh::resources {
namespace {

class KbsKmsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    provider_.Put("default/kek/1", std::string(32, 'k'));
    auto ct = crypto::Aes256GcmEncrypt(SecretBytes::FromString(std::string(32, 'k')), iv_, "the data key 0123456789abcdef012", "");
    wrapped_ = ct->ciphertext + ct->tag;
  }
  absl::StatusOr<SecretBytes> Decrypt(std::string_view ct, std::string_view key_id, nlohmann::json annotations) {
    return kms_.Decrypt(ct, key_id, annotations, CallContext{});
  }
  FakeResourceProvider provider_;
  KbsKms kms_{provider_};
  std::string iv_ = "0123456789ab";
  std::string wrapped_;
};

TEST_F(KbsKmsTest, UnwrapsWithTheBrokerKek) {
  auto dek = Decrypt(wrapped_, "kbs:///default/kek/1", {{"iv", Base64StdEncode(iv_)}});
  ASSERT_TRUE(dek.ok()) << dek.status();
  EXPECT_EQ(dek->RevealString(), "the data key 0123456789abcdef012");
}

TEST_F(KbsKmsTest, RejectsBadInputsWithTheirCodes) {
  nlohmann::json ann = {{"iv", Base64StdEncode(iv_)}};
  EXPECT_EQ(Decrypt(wrapped_, "default/kek/1", ann).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Decrypt(wrapped_, "kbs:///default/kek/2", ann).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Decrypt(wrapped_, "kbs:///default/kek/1", nlohmann::json::object()).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Decrypt(wrapped_, "kbs:///default/kek/1", {{"iv", "AAEC"}}).status().code(), absl::StatusCode::kInvalidArgument);
  std::string flipped = wrapped_;
  flipped[3] ^= 1;
  EXPECT_EQ(Decrypt(flipped, "kbs:///default/kek/1", ann).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Decrypt("short", "kbs:///default/kek/1", ann).status().code(), absl::StatusCode::kInvalidArgument);
  provider_.Put("default/kek/1", std::string(16, 'k'));
  auto small = Decrypt(wrapped_, "kbs:///default/kek/1", ann);
  EXPECT_EQ(small.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(small.status().message()).find("32 bytes"), std::string::npos);
}

}  // namespace
}  // namespace cdh::resources
