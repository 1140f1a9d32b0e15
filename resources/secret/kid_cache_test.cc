// The verification-key cache of SecretUnsealer: a warm unseal with a KBS-URI kid fetches only
// the secret; a rotated key is picked up at once; a TTL of zero restores upstream's behaviour.
#include <gtest/gtest.h>

#include "common/base64.h"
#include "common/testing/status_matchers.h"
#include "crypto/ec_p256.h"
#include "resources/fake_resource_provider.h"
#include "resources/secret/secret_unsealer.h"

namespace cdh::resources {
namespace {

using ::cdh::testing::IsOk;
using ::cdh::testing::StatusIs;

constexpr char kKid[] = "kbs:///default/signing-key/rotating";

// A signed vault sealed secret naming kbs:///default/sealed-secret/test, signed by `key`.
std::string Seal(const crypto::EcP256PrivateKey& key) {
  std::string header = Base64UrlEncode(std::string(R"({"b64":true,"alg":"ES256","kid":")") + kKid + "\"}");
  std::string payload = Base64UrlEncode(
      std::string(R"({"version":"0.1.0","type":"vault","name":"kbs:///default/sealed-secret/test","provider":"kbs",)"
                  R"("provider_settings":{},"annotations":{}})"));
  std::string input = header + "." + payload;
  return "sealed." + input + "." + Base64UrlEncode(*key.SignEs256(input));
}

class KidCacheTest : public ::testing::Test {
 protected:
  std::unique_ptr<SecretUnsealer> Unsealer(absl::Duration ttl) {
    std::map<std::string, std::unique_ptr<SecretGetter>> getters;
    getters["kbs"] = std::make_unique<KbsSecretGetter>(provider_);
    SecretUnsealerOptions o;
    o.kid_cache_ttl = ttl;
    return std::make_unique<SecretUnsealer>(o, provider_, std::move(getters), nullptr);
  }
  void PublishKey(const crypto::EcP256PrivateKey& key) {
    provider_.Put("default/signing-key/rotating", key.ToPublicJwk().dump());
  }
  FakeResourceProvider provider_;
};

TEST_F(KidCacheTest, WarmUnsealFetchesOnlyTheSecret) {
  auto key = crypto::EcP256PrivateKey::Generate();
  PublishKey(*key);
  provider_.Put("default/sealed-secret/test", "s3cret");
  auto unsealer = Unsealer(absl::Minutes(5));
  std::string sealed = Seal(*key);
  for (int i = 0; i < 5; ++i) {
    auto r = unsealer->Unseal(sealed, CallContext{});
    ASSERT_THAT(r, IsOk());
    EXPECT_EQ(r->RevealString(), "s3cret");
  }
  EXPECT_EQ(provider_.calls(), 6);  // the key once, the secret five times
}

TEST_F(KidCacheTest, ZeroTtlFetchesTheKeyEveryTime) {
  auto key = crypto::EcP256PrivateKey::Generate();
  PublishKey(*key);
  provider_.Put("default/sealed-secret/test", "s3cret");
  auto unsealer = Unsealer(absl::ZeroDuration());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(unsealer->Unseal(Seal(*key), CallContext{}).ok());
  EXPECT_EQ(provider_.calls(), 6);
}

TEST_F(KidCacheTest, RotatedKeyIsPickedUpAtOnceAndForgeriesStillFail) {
  auto old_key = crypto::EcP256PrivateKey::Generate();
  auto new_key = crypto::EcP256PrivateKey::Generate();
  auto forger = crypto::EcP256PrivateKey::Generate();
  provider_.Put("default/sealed-secret/test", "s3cret");
  PublishKey(*old_key);
  auto unsealer = Unsealer(absl::Minutes(5));
  ASSERT_TRUE(unsealer->Unseal(Seal(*old_key), CallContext{}).ok());  // caches the old key
  PublishKey(*new_key);                                               // rotation on the broker
  auto r = unsealer->Unseal(Seal(*new_key), CallContext{});
  ASSERT_THAT(r, IsOk());
  auto forged = unsealer->Unseal(Seal(*forger), CallContext{});
  EXPECT_THAT(forged, StatusIs(absl::StatusCode::kPermissionDenied));
  // The old key is no longer cached either: it was replaced by the re-fetch.
  EXPECT_THAT(unsealer->Unseal(Seal(*old_key), CallContext{}), StatusIs(absl::StatusCode::kPermissionDenied));
}

}  // namespace
}  // namespace cdh::resources
