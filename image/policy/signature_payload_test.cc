#include "image/policy/signature_payload.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"

namespace cdh::image {
namespace {

using ::cdh::testing::StatusIs;

const std::string kDigest = "sha256:" + std::string(64, 'b');

ImageReference Ref(const std::string& text) {
  auto ref = ImageReference::Parse(text);
  EXPECT_TRUE(ref.ok()) << text << ": " << ref.status();
  return *ref;
}

TEST(SignaturePayloadTest, ParsesCosignAndSkopeoPayloads) {
  // cosign: repository only, optional null.
  auto cosign = ParseSignaturePayload(
      R"({"critical":{"identity":{"docker-reference":"127.0.0.1:5000/signed/app"},"image":{"docker-manifest-digest":")" +
      kDigest + R"("},"type":"cosign container image signature"},"optional":null})");
  ASSERT_TRUE(cosign.ok()) << cosign.status();
  EXPECT_EQ(cosign->type, kCosignSignatureType);
  EXPECT_EQ(cosign->docker_reference, "127.0.0.1:5000/signed/app");
  EXPECT_EQ(cosign->manifest_digest, kDigest);
  // skopeo --sign-by: full reference, creator and timestamp.
  auto skopeo = ParseSignaturePayload(
      R"({"critical":{"type":"atomic container signature","image":{"docker-manifest-digest":")" + kDigest +
      R"("},"identity":{"docker-reference":"127.0.0.1:5000/test/app:gpg"}},"optional":{"creator":"atomic 5.23.1","timestamp":1700000000}})");
  ASSERT_TRUE(skopeo.ok()) << skopeo.status();
  EXPECT_EQ(skopeo->type, kSimpleSigningType);
}

TEST(SignaturePayloadTest, StrictCriticalSection) {
  const char* cases[] = {
      "",
      "[]",
      R"({"optional":{}})",
      R"({"critical":{}})",
      R"({"critical":{"identity":{"docker-reference":"a/b"},"image":{"docker-manifest-digest":"d"}}})",
      R"({"critical":{"identity":{"docker-reference":"a/b"},"image":{"docker-manifest-digest":"d"},"type":"t","extra":1}})",
      R"({"critical":{"identity":{"docker-reference":"a/b","x":1},"image":{"docker-manifest-digest":"d"},"type":"t"}})",
      R"({"critical":{"identity":{"docker-reference":"a/b"},"image":{"docker-manifest-digest":1},"type":"t"}})",
      R"({"critical":{"identity":{"docker-reference":null},"image":{"docker-manifest-digest":"d"},"type":"t"}})",
      R"({"critical":{"identity":"a/b","image":{"docker-manifest-digest":"d"},"type":"t"}})",
      R"({"critical":{"identity":{"docker-reference":"a/b"},"image":{"docker-manifest-digest":"d"},"type":"t"},"other":1})",
  };
  for (const char* c : cases) {
    EXPECT_THAT(ParseSignaturePayload(c).status(), StatusIs(absl::StatusCode::kInvalidArgument)) << c;
  }
  EXPECT_THAT(ParseSignaturePayload(std::string(kMaxSignaturePayloadSize + 1, ' ')).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

SignedIdentity Id(SignedIdentity::Type type) {
  SignedIdentity id;
  id.type = type;
  return id;
}

TEST(IdentityMatchTest, Table) {
  using T = SignedIdentity::Type;
  SignedIdentity exact_ref = Id(T::kExactReference);
  exact_ref.docker_reference = "quay.io/ns/app:v1";
  SignedIdentity exact_repo = Id(T::kExactRepository);
  exact_repo.docker_repository = "quay.io/ns/app";
  SignedIdentity remap = Id(T::kRemapIdentity);
  remap.prefix = "mirror.local:5000/ns";
  remap.signed_prefix = "quay.io/ns";
  const std::string by_digest = "quay.io/ns/app@" + kDigest;

  struct Case {
    SignedIdentity id;
    std::string image;
    std::string signed_ref;
    bool match;
  };
  const Case cases[] = {
      // matchExact
      {Id(T::kMatchExact), "quay.io/ns/app:v1", "quay.io/ns/app:v1", true},
      {Id(T::kMatchExact), "quay.io/ns/app:v1", "quay.io/ns/app:v2", false},
      {Id(T::kMatchExact), "quay.io/ns/app:latest", "quay.io/ns/app", false},     // name-only signature
      {Id(T::kMatchExact), "busybox", "docker.io/library/busybox:latest", true},  // both normalised
      {Id(T::kMatchExact), "docker.io/library/busybox:latest", "busybox:latest", true},
      // matchRepoDigestOrExact
      {Id(T::kMatchRepoDigestOrExact), "quay.io/ns/app:v1", "quay.io/ns/app:v1", true},
      {Id(T::kMatchRepoDigestOrExact), "quay.io/ns/app:v1", "quay.io/ns/app:v2", false},
      {Id(T::kMatchRepoDigestOrExact), by_digest, "quay.io/ns/app:v9", true},  // by digest: repository
      {Id(T::kMatchRepoDigestOrExact), by_digest, "quay.io/ns/other:v9", false},
      {Id(T::kMatchRepoDigestOrExact), "quay.io/ns/app:v1", "quay.io/ns/app", false},  // cosign payloads
      // matchRepository
      {Id(T::kMatchRepository), "quay.io/ns/app:v1", "quay.io/ns/app", true},
      {Id(T::kMatchRepository), "quay.io/ns/app:v1", "quay.io/ns/app:v2", true},
      {Id(T::kMatchRepository), "quay.io/ns/app:v1", "quay.io/ns/app2", false},
      {Id(T::kMatchRepository), "quay.io/ns/app:v1", "quay.io/ns", false},
      {Id(T::kMatchRepository), "quay.io/ns/app:v1", "other.io/ns/app", false},
      {Id(T::kMatchRepository), "quay.io/ns/app:v1", "Not A Reference", false},
      // exactReference / exactRepository: the image's own name does not matter
      {exact_ref, "mirror.local/whatever:x", "quay.io/ns/app:v1", true},
      {exact_ref, "quay.io/ns/app:v1", "quay.io/ns/app:v2", false},
      {exact_ref, "quay.io/ns/app:v1", "quay.io/ns/app", false},
      {exact_repo, "mirror.local/whatever:x", "quay.io/ns/app:v7", true},
      {exact_repo, "mirror.local/whatever:x", "quay.io/ns/app", true},
      {exact_repo, "quay.io/ns/app:v1", "quay.io/ns/other:v1", false},
      // remapIdentity: prefix replaced at a segment boundary, then matchRepoDigestOrExact
      {remap, "mirror.local:5000/ns/app:v1", "quay.io/ns/app:v1", true},
      {remap, "mirror.local:5000/ns/app:v1", "quay.io/ns/app:v2", false},
      {remap, "mirror.local:5000/nsx/app:v1", "quay.io/nsx/app:v1", false},           // not a segment boundary
      {remap, "mirror.local:5000/nsx/app:v1", "mirror.local:5000/nsx/app:v1", true},  // unmapped: as is
      {remap, "mirror.local:5000/ns/app@" + kDigest, "quay.io/ns/app:any", true},
  };
  for (const Case& c : cases) {
    std::string why;
    EXPECT_EQ(IdentityMatches(c.id, Ref(c.image), c.signed_ref, &why), c.match)
        << c.id.TypeName() << " image=" << c.image << " signed=" << c.signed_ref << " why=" << why;
    if (!c.match) {
      EXPECT_FALSE(why.empty()) << c.image << " " << c.signed_ref;
    }
  }
}

}  // namespace
}  // namespace cdh::image
