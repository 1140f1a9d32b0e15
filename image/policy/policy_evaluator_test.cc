#include "image/policy/policy_evaluator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/base64.h"
#include "common/testing/status_matchers.h"
#include "image/policy/testing/cosign_fixture.h"
#include "image/policy/testing/in_memory_registry.h"
#include "resources/fake_resource_provider.h"

namespace cdh::image {
namespace {

using ::cdh::testing::StatusIs;
using ::testing::HasSubstr;

using testing::CosignKey;
using testing::CosignPayload;
using testing::InMemoryRegistry;
using testing::PutSignatures;

constexpr char kSigned[] = "127.0.0.1:5000/signed/fraud-detection";
constexpr char kPlain[] = "127.0.0.1:5000/plain/app";
constexpr char kKeyPath[] = "kbs:///default/conf-devhub-signature/pub-key";

// The scenario's policy shape: reject by default; the signed namespace needs a cosign signature
// by the key the broker holds.
constexpr char kScenarioPolicy[] = R"({
  "default": [{"type": "reject"}],
  "transports": {"docker": {
    "127.0.0.1:5000/signed": [{"type": "sigstoreSigned", "keyPath": "kbs:///default/conf-devhub-signature/pub-key",
                               "signedIdentity": {"type": "matchRepository"}}],
    "127.0.0.1:5000/plain": [{"type": "insecureAcceptAnything"}],
    "127.0.0.1:5000/two": [{"type": "insecureAcceptAnything"}, {"type": "reject"}]
  }}
})";

class PolicyEvaluatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kbs_.Put("default/conf-devhub-signature/pub-key", key_.PublicPem());
    signed_digest_ = registry_.PutManifest(kSigned, "latest", R"({"schemaVersion":2,"layers":[],"x":1})");
    plain_digest_ = registry_.PutManifest(kPlain, "latest", R"({"schemaVersion":2,"layers":[],"x":2})");
    auto evaluator = PolicyEvaluator::New(kScenarioPolicy, resolver_);
    ASSERT_TRUE(evaluator.ok()) << evaluator.status();
    evaluator_ = *std::move(evaluator);
  }

  void Sign(const std::string& name, const Digest& digest) {
    std::string payload = CosignPayload(name, digest.String());
    PutSignatures(registry_, name, digest, {{payload, Base64StdEncode(key_.SignDer(payload))}});
  }

  absl::Status Verify(const std::string& image, const Digest& digest) {
    return evaluator_->Verify(*ImageReference::Parse(image), digest, registry_, CallContext{});
  }

  resources::FakeResourceProvider kbs_;
  ResourceKeyResolver resolver_{kbs_};
  InMemoryRegistry registry_;
  CosignKey key_;
  Digest signed_digest_;
  Digest plain_digest_;
  std::unique_ptr<PolicyEvaluator> evaluator_;
};

TEST_F(PolicyEvaluatorTest, SignedImageIsAllowedAndTheKeyIsFetchedOnce) {
  Sign(kSigned, signed_digest_);
  EXPECT_TRUE(Verify(std::string(kSigned) + ":latest", signed_digest_).ok());
  EXPECT_TRUE(Verify(std::string(kSigned) + "@" + signed_digest_.String(), signed_digest_).ok());
  EXPECT_EQ(kbs_.calls(), 1);
}

TEST_F(PolicyEvaluatorTest, UnsignedImageInTheSignedScopeIsDenied) {
  absl::Status s = Verify(std::string(kSigned) + ":latest", signed_digest_);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kPermissionDenied));
  const std::string m(s.message());
  EXPECT_EQ(m.rfind("Image policy rejected: Denied by policy: ", 0), 0u) << m;
  EXPECT_THAT(m, HasSubstr(std::string("image ") + kSigned + ":latest")) << m;
  EXPECT_THAT(m, HasSubstr("`sigstoreSigned` requirement (scope \"127.0.0.1:5000/signed\")")) << m;
  EXPECT_THAT(m, HasSubstr("no sigstore signature found")) << m;
}

TEST_F(PolicyEvaluatorTest, ImageOutsideEveryScopeIsRejectedByDefault) {
  Digest d = registry_.PutManifest("127.0.0.1:5000/elsewhere/app", "latest", "{}");
  absl::Status s = Verify("127.0.0.1:5000/elsewhere/app", d);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("Policy `reject` rejects image 127.0.0.1:5000/elsewhere/app:latest (scope \"default\")"))
      << s;
}

TEST_F(PolicyEvaluatorTest, InsecureAcceptAnythingFetchesNothing) {
  EXPECT_TRUE(Verify(kPlain, plain_digest_).ok());
  EXPECT_EQ(registry_.manifest_gets(), 0);
  EXPECT_EQ(kbs_.calls(), 0);
}

TEST_F(PolicyEvaluatorTest, EveryRequirementOfTheListMustPass) {
  Digest d = registry_.PutManifest("127.0.0.1:5000/two/app", "latest", "{}");
  absl::Status s = Verify("127.0.0.1:5000/two/app", d);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(std::string(s.message()), HasSubstr("scope \"127.0.0.1:5000/two\"")) << s;
}

TEST_F(PolicyEvaluatorTest, ReTaggedSignatureOfAnotherImageIsDenied) {
  // A signature made for the plain image's digest, attached to the signed image's digest.
  std::string payload = CosignPayload(kSigned, plain_digest_.String());
  PutSignatures(registry_, kSigned, signed_digest_, {{payload, Base64StdEncode(key_.SignDer(payload))}});
  absl::Status s = Verify(std::string(kSigned) + ":latest", signed_digest_);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(std::string(s.message()), HasSubstr("is for manifest " + plain_digest_.String())) << s;
}

TEST_F(PolicyEvaluatorTest, SignatureOverTheIndexDigestIsAccepted) {
  // cosign signs what the tag resolves to: the index of a multi-arch image.
  std::string index =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
      signed_digest_.String() + R"(","size":1,"platform":{"os":"linux","architecture":"amd64"}}]})";
  Digest index_digest = registry_.PutManifest(kSigned, "multi", index, "application/vnd.oci.image.index.v1+json");
  Sign(kSigned, index_digest);
  EXPECT_TRUE(Verify(std::string(kSigned) + ":multi", signed_digest_).ok());
  // An index that does not list the pulled manifest does not vouch for it.
  Digest other = registry_.PutManifest(kSigned, "", R"({"schemaVersion":2,"layers":[],"x":3})");
  EXPECT_THAT(Verify(std::string(kSigned) + ":multi", other), StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST_F(PolicyEvaluatorTest, KeyErrorsKeepTheirCodeAndNameTheKey) {
  kbs_.FailWith(absl::UnavailableError("broker unreachable"));
  absl::Status s = Verify(std::string(kSigned) + ":latest", signed_digest_);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kUnavailable)) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr(kKeyPath)) << s;
  kbs_.FailWith(absl::OkStatus());
  kbs_.Put("default/conf-devhub-signature/pub-key", "not a key");
  s = Verify(std::string(kSigned) + ":latest", signed_digest_);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument)) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("BEGIN PUBLIC KEY")) << s;
}

TEST_F(PolicyEvaluatorTest, RegistryOutageWhileFetchingSignaturesPropagates) {
  registry_.FailWith(absl::UnavailableError("registry down"));
  EXPECT_THAT(Verify(std::string(kSigned) + ":latest", signed_digest_), StatusIs(absl::StatusCode::kUnavailable));
}

TEST(PolicyEvaluatorNoPolicyTest, AcceptsEverythingWithoutFetching) {
  InMemoryRegistry registry;
  auto evaluator = PolicyEvaluator::NewWithoutPolicy();
  EXPECT_THAT(evaluator->Describe(), HasSubstr("No `image_security_policy` given"));
  EXPECT_TRUE(
      evaluator->Verify(*ImageReference::Parse("busybox"), Digest::Sha256Of(std::string("x")), registry, CallContext{})
          .ok());
  EXPECT_EQ(registry.manifest_gets(), 0);
}

TEST(PolicyEvaluatorNewTest, OwnsItsKeyResolverWhenGivenOne) {
  resources::FakeResourceProvider kbs;
  CosignKey key;
  kbs.Put("default/k/pub", key.PublicPem());
  auto evaluator = PolicyEvaluator::New(R"({"default":[{"type":"sigstoreSigned","keyPath":"kbs:///default/k/pub"}]})",
                                        std::make_unique<ResourceKeyResolver>(kbs));
  ASSERT_TRUE(evaluator.ok()) << evaluator.status();
  InMemoryRegistry registry;
  Digest d = registry.PutManifest("quay.io/ns/app", "latest", "{}");
  std::string payload = CosignPayload("quay.io/ns/app", d.String());
  PutSignatures(registry, "quay.io/ns/app", d, {{payload, Base64StdEncode(key.SignDer(payload))}});
  EXPECT_TRUE((*evaluator)->Verify(*ImageReference::Parse("quay.io/ns/app"), d, registry, CallContext{}).ok());
  EXPECT_THAT(PolicyEvaluator::New("{}", std::unique_ptr<KeyResolver>()).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(PolicyEvaluatorNewTest, RefusesABadPolicyOrSigstoreConfig) {
  resources::FakeResourceProvider kbs;
  ResourceKeyResolver resolver(kbs);
  EXPECT_THAT(PolicyEvaluator::New(R"({"default":[]})", resolver).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
  PolicyEvaluatorOptions options;
  options.sigstore_config_yaml = "docker: [1, 2";
  EXPECT_THAT(PolicyEvaluator::New(R"({"default":[{"type":"reject"}]})", resolver, options).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace cdh::image
