#include "resources/kms/kbs_kms.h"

#include <gtest/gtest.h>

#include "common/base64.h"
#include "common/testing/status_matchers.h"
#include "crypto/aes.h"
#include "resources/fake_resource_provider.h"

namespace cdh::resources {
namespace {

using ::cdh::testing::IsOk;
using ::cdh::testing::StatusIs;

class KbsKmsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    provider_.Put("default/kek/1", std::string(32, 'k'));
    auto ct = crypto::Aes256GcmEncrypt(SecretBytes::FromString(std::string(32, 'k')), iv_,
                                       "the data key 0123456789abcdef012", "");
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
  ASSERT_THAT(dek, IsOk());
  EXPECT_EQ(dek->RevealString(), "the data key 0123456789abcdef012");
}

TEST_F(KbsKmsTest, RejectsBadInputsWithTheirCodes) {
  nlohmann::json ann = {{"iv", Base64StdEncode(iv_)}};
  EXPECT_THAT(Decrypt(wrapped_, "default/kek/1", ann), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Decrypt(wrapped_, "kbs:///default/kek/2", ann), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(Decrypt(wrapped_, "kbs:///default/kek/1", nlohmann::json::object()),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Decrypt(wrapped_, "kbs:///default/kek/1", {{"iv", "AAEC"}}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  std::string flipped = wrapped_;
  flipped[3] ^= 1;
  EXPECT_THAT(Decrypt(flipped, "kbs:///default/kek/1", ann), StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(Decrypt("short", "kbs:///default/kek/1", ann), StatusIs(absl::StatusCode::kInvalidArgument));
  provider_.Put("default/kek/1", std::string(16, 'k'));
  auto small = Decrypt(wrapped_, "kbs:///default/kek/1", ann);
  EXPECT_THAT(small, StatusIs(absl::StatusCode::kInvalidArgument, "32 bytes"));
}

}  // namespace
}  // namespace cdh::resources
