#include "image/policy/policy.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"

namespace cdh::image {
namespace {

using ::cdh::testing::StatusIs;
using ::testing::HasSubstr;

ImageReference Ref(const std::string& text) {
  auto ref = ImageReference::Parse(text);
  EXPECT_TRUE(ref.ok()) << text << ": " << ref.status();
  return *ref;
}

TEST(PolicyParseTest, AcceptsTheScenarioPolicy) {
  // The shape of the scenario's policy (trustee-image-policy/policy): reject by default, one
  // sigstoreSigned scope whose key is a KBS resource.
  auto policy = Policy::Parse(R"({
    "default": [{"type": "reject"}],
    "transports": {
      "docker": {
        "registry.example:5000/signed": [{
          "type": "sigstoreSigned",
          "keyPath": "kbs:///default/conf-devhub-signature/pub-key",
          "signedIdentity": {"type": "matchRepository"}
        }],
        "registry.example:5000/plain": [{"type": "insecureAcceptAnything"}]
      }
    }
  })");
  ASSERT_TRUE(policy.ok()) << policy.status();
  ASSERT_EQ(policy->default_requirements().size(), 1u);
  EXPECT_EQ(policy->default_requirements()[0].type, PolicyRequirement::Type::kReject);
  const PolicyRequirements& signed_reqs = policy->docker_scopes().at("registry.example:5000/signed");
  ASSERT_EQ(signed_reqs.size(), 1u);
  EXPECT_EQ(signed_reqs[0].type, PolicyRequirement::Type::kSigstoreSigned);
  ASSERT_EQ(signed_reqs[0].keys.size(), 1u);
  EXPECT_EQ(signed_reqs[0].keys[0].kind, KeySource::Kind::kPath);
  EXPECT_EQ(signed_reqs[0].keys[0].value, "kbs:///default/conf-devhub-signature/pub-key");
  ASSERT_TRUE(signed_reqs[0].signed_identity.has_value());
  EXPECT_EQ(signed_reqs[0].signed_identity->type, SignedIdentity::Type::kMatchRepository);
}

TEST(PolicyParseTest, KeyDataForms) {
  // sigstoreSigned keyData: PEM text (image-rs) or base64 of it (containers/image).
  auto pem = Policy::Parse(
      R"({"default":[{"type":"sigstoreSigned","keyData":"-----BEGIN PUBLIC KEY-----\nAA==\n-----END PUBLIC KEY-----\n"}]})");
  ASSERT_TRUE(pem.ok()) << pem.status();
  EXPECT_EQ(pem->default_requirements()[0].keys[0].kind, KeySource::Kind::kData);
  EXPECT_TRUE(pem->default_requirements()[0].keys[0].value.starts_with("-----BEGIN PUBLIC KEY-----"));
  auto b64 = Policy::Parse(R"({"default":[{"type":"sigstoreSigned","keyDatas":["aGVsbG8=","d29ybGQ="]}]})");
  ASSERT_TRUE(b64.ok()) << b64.status();
  ASSERT_EQ(b64->default_requirements()[0].keys.size(), 2u);
  EXPECT_EQ(b64->default_requirements()[0].keys[0].value, "hello");
  EXPECT_EQ(b64->default_requirements()[0].keys[1].value, "world");
  // signedBy keyData is always base64 (of a binary or armored keyring).
  auto gpg = Policy::Parse(R"({"default":[{"type":"signedBy","keyType":"GPGKeys","keyData":"aGVsbG8="}]})");
  ASSERT_TRUE(gpg.ok()) << gpg.status();
  EXPECT_EQ(gpg->default_requirements()[0].keys[0].value, "hello");
  EXPECT_FALSE(gpg->default_requirements()[0].signed_identity.has_value());
}

TEST(PolicyParseTest, SignedIdentityForms) {
  struct Case {
    const char* json;
    SignedIdentity::Type type;
  };
  const Case cases[] = {
      {R"({"type":"matchExact"})", SignedIdentity::Type::kMatchExact},
      {R"({"type":"matchRepoDigestOrExact"})", SignedIdentity::Type::kMatchRepoDigestOrExact},
      {R"({"type":"matchRepository"})", SignedIdentity::Type::kMatchRepository},
      {R"({"type":"exactReference","dockerReference":"quay.io/ns/app:v1"})", SignedIdentity::Type::kExactReference},
      {R"({"type":"exactRepository","dockerRepository":"quay.io/ns/app"})", SignedIdentity::Type::kExactRepository},
      {R"({"type":"remapIdentity","prefix":"mirror.local/ns","signedPrefix":"quay.io/ns"})",
       SignedIdentity::Type::kRemapIdentity},
  };
  for (const Case& c : cases) {
    std::string json =
        std::string(R"({"default":[{"type":"sigstoreSigned","keyPath":"/k.pub","signedIdentity":)") + c.json + "}]}";
    auto policy = Policy::Parse(json);
    ASSERT_TRUE(policy.ok()) << c.json << ": " << policy.status();
    EXPECT_EQ(policy->default_requirements()[0].signed_identity->type, c.type) << c.json;
  }
}

TEST(PolicyParseTest, RefusesWithAClearMessage) {
  struct Case {
    const char* json;
    const char* message;  // substring of the error
  };
  const Case cases[] = {
      {"", "not valid JSON"},
      {"[]", "must be a JSON object"},
      {R"({"transports":{}})", "`default` is missing"},
      {R"({"default":[]})", "default: must not be empty"},
      {R"({"default":{}})", "default: must be an array"},
      {R"({"default":[{"type":"reject"}],"extra":1})", "unknown member `extra`"},
      {R"({"default":[{"type":"reject"}],"default":[{"type":"insecureAcceptAnything"}]})",
       "duplicate member `default`"},
      {R"({"default":[{"type":"reject","keyPath":"/x"}]})", "default[0]: unknown member `keyPath`"},
      {R"({"default":[{"type":"nope"}]})", "unknown requirement type `nope`"},
      {R"({"default":[{}]})", "`type` is missing"},
      {R"({"default":[{"type":"signedBaseLayer","baseLayerIdentity":{}}]})", "`signedBaseLayer` is not supported"},
      {R"({"default":[{"type":"signedBy","keyPath":"/k"}]})", "`keyType` is missing"},
      {R"({"default":[{"type":"signedBy","keyType":"X509Certificates","keyPath":"/k"}]})", "only GPGKeys"},
      {R"({"default":[{"type":"signedBy","keyType":"GPGKeys"}]})", "exactly one of"},
      {R"({"default":[{"type":"signedBy","keyType":"GPGKeys","keyPath":"/k","keyData":"aGk="}]})", "exactly one of"},
      {R"({"default":[{"type":"signedBy","keyType":"GPGKeys","keyDatas":["aGk="]}]})", "unknown member `keyDatas`"},
      {R"({"default":[{"type":"signedBy","keyType":"GPGKeys","keyData":"not base64!"}]})", "standard base64"},
      {R"({"default":[{"type":"sigstoreSigned","keyPath":""}]})", "keyPath: must be a non-empty string"},
      {R"({"default":[{"type":"sigstoreSigned","keyPaths":[]}]})", "keyPaths: must be a non-empty array"},
      {R"({"default":[{"type":"sigstoreSigned","keyData":"%%%"}]})", "PEM text or standard base64"},
      {R"({"default":[{"type":"sigstoreSigned","fulcio":{"caPath":"/ca"}}]})", "fulcio: is not supported"},
      {R"({"default":[{"type":"sigstoreSigned","keyPath":"/k","rekorPublicKeyPath":"/r"}]})",
       "rekorPublicKeyPath: is not supported"},
      {R"({"default":[{"type":"sigstoreSigned","keyPath":"/k","signedIdentity":{"type":"matchEverything"}}]})",
       "unknown signedIdentity type"},
      {R"({"default":[{"type":"sigstoreSigned","keyPath":"/k","signedIdentity":{"type":"matchExact","x":1}}]})",
       "signedIdentity: unknown member `x`"},
      {R"({"default":[{"type":"sigstoreSigned","keyPath":"/k","signedIdentity":{"type":"exactReference","dockerReference":"quay.io/ns/app"}}]})",
       "must be a reference with a tag or digest"},
      {R"({"default":[{"type":"sigstoreSigned","keyPath":"/k","signedIdentity":{"type":"exactRepository","dockerRepository":"quay.io/ns/app:v1"}}]})",
       "without tag or digest"},
      {R"({"default":[{"type":"sigstoreSigned","keyPath":"/k","signedIdentity":{"type":"remapIdentity","prefix":"a.io/x:tag","signedPrefix":"b.io"}}]})",
       "prefix: is not a host or namespace"},
      {R"({"default":[{"type":"reject"}],"transports":{"docker":{"x.io":[]}}})",
       "transports.docker[\"x.io\"]: must not be empty"},
      {R"({"default":[{"type":"reject"}],"transports":{"docker":{"*.":[{"type":"reject"}]}}})", "wildcard scope"},
      {R"({"default":[{"type":"reject"}],"transports":{"docker":[]}})", "transports.docker: must be an object"},
      {R"({"default":[{"type":"reject"}],"transports":{"docker":{"a":[{"type":"reject"}],"a":[{"type":"reject"}]}}})",
       "duplicate member `a`"},
  };
  for (const Case& c : cases) {
    auto policy = Policy::Parse(c.json);
    ASSERT_FALSE(policy.ok()) << c.json;
    EXPECT_THAT(policy.status(), StatusIs(absl::StatusCode::kInvalidArgument)) << c.json;
    EXPECT_THAT(std::string(policy.status().message()), HasSubstr(c.message)) << c.json << " -> " << policy.status();
    EXPECT_EQ(std::string(policy.status().message()).rfind("invalid image policy", 0), 0u) << policy.status();
  }
}

TEST(PolicyParseTest, OversizeIsRefused) {
  std::string big = R"({"default":[{"type":"reject"}],"transports":{"docker":{")" +
                    std::string(Policy::kMaxPolicySize, 'a') + R"(":[{"type":"reject"}]}}})";
  EXPECT_THAT(Policy::Parse(big).status(), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(PolicyParseTest, OtherTransportsAreParsedButNotConsulted) {
  auto policy = Policy::Parse(R"({"default":[{"type":"insecureAcceptAnything"}],
      "transports":{"oci":{"":[{"type":"reject"}]},"docker-daemon":{"":[{"type":"reject"}]}}})");
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_TRUE(policy->docker_scopes().empty());
  EXPECT_EQ(policy->RequirementsFor(Ref("busybox")).scope, "default");
}

TEST(PolicyScopeTest, CandidatesInContainersImageOrder) {
  EXPECT_EQ(Policy::ScopeCandidates(Ref("busybox")),
            (std::vector<std::string>{"docker.io/library/busybox:latest", "docker.io/library/busybox",
                                      "docker.io/library", "docker.io", "*.io"}));
  EXPECT_EQ(Policy::ScopeCandidates(Ref("registry.example.com:5000/a/b/c:v1")),
            (std::vector<std::string>{"registry.example.com:5000/a/b/c:v1", "registry.example.com:5000/a/b/c",
                                      "registry.example.com:5000/a/b", "registry.example.com:5000/a",
                                      "registry.example.com:5000", "*.example.com", "*.com"}));
  const std::string digest = "sha256:" + std::string(64, 'a');
  EXPECT_EQ(Policy::ScopeCandidates(Ref("localhost/app@" + digest))[0], "localhost/app@" + digest);
  // "localhost" has no dot: no wildcard scopes.
  EXPECT_EQ(Policy::ScopeCandidates(Ref("localhost/app@" + digest)),
            (std::vector<std::string>{"localhost/app@" + digest, "localhost/app", "localhost"}));
}

TEST(PolicyScopeTest, MostSpecificScopeWinsAndOnlyItApplies) {
  auto policy = Policy::Parse(R"({
    "default": [{"type": "reject"}],
    "transports": {"docker": {
      "": [{"type": "insecureAcceptAnything"}, {"type": "insecureAcceptAnything"}],
      "127.0.0.1:5000": [{"type": "reject"}, {"type": "reject"}, {"type": "reject"}],
      "127.0.0.1:5000/signed": [{"type": "sigstoreSigned", "keyPath": "/k.pub"}],
      "127.0.0.1:5000/signed/app:v2": [{"type": "insecureAcceptAnything"}],
      "*.example.com": [{"type": "signedBy", "keyType": "GPGKeys", "keyPath": "/k.gpg"}],
      "docker.io/library": [{"type": "reject"}, {"type": "insecureAcceptAnything"}]
    }}
  })");
  ASSERT_TRUE(policy.ok()) << policy.status();
  struct Case {
    const char* image;
    const char* scope;
    size_t count;
  };
  const Case cases[] = {
      {"127.0.0.1:5000/signed/app:v1", "127.0.0.1:5000/signed", 1},
      {"127.0.0.1:5000/signed/app:v2", "127.0.0.1:5000/signed/app:v2", 1},
      {"127.0.0.1:5000/signed/deeper/app", "127.0.0.1:5000/signed", 1},
      {"127.0.0.1:5000/signedother/app", "127.0.0.1:5000", 3},  // no partial-segment match
      {"127.0.0.1:5001/signed/app", "", 2},                     // another port is another host
      {"registry.example.com/x/y", "*.example.com", 1},
      {"registry.example.com:443/x/y", "*.example.com", 1},  // wildcard ignores the port
      {"busybox", "docker.io/library", 2},
      {"quay.io/x/y", "", 2},
  };
  for (const Case& c : cases) {
    Policy::Selection s = policy->RequirementsFor(Ref(c.image));
    EXPECT_EQ(s.scope, c.scope) << c.image;
    EXPECT_EQ(s.requirements->size(), c.count) << c.image;
  }
}

TEST(PolicyScopeTest, DefaultWhenNoDockerScopeMatches) {
  auto policy = Policy::Parse(
      R"({"default":[{"type":"reject"}],"transports":{"docker":{"quay.io":[{"type":"insecureAcceptAnything"}]}}})");
  ASSERT_TRUE(policy.ok());
  Policy::Selection s = policy->RequirementsFor(Ref("127.0.0.1:5000/app"));
  EXPECT_EQ(s.scope, "default");
  EXPECT_EQ((*s.requirements)[0].type, PolicyRequirement::Type::kReject);
}

}  // namespace
}  // namespace cdh::image
