#include "image/policy/lookaside_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"

namespace cdh::image {
namespace {

using ::cdh::testing::StatusIs;
using ::testing::HasSubstr;

ImageReference Ref(const std::string& text) { return *ImageReference::Parse(text); }

TEST(LookasideConfigTest, LongestNamespaceThenDefault) {
  auto config = LookasideConfig::Parse(R"(
default-docker:
  lookaside: file:///default
docker:
  127.0.0.1:5000:
    lookaside: file:///host
  127.0.0.1:5000/test/app:
    sigstore: file:///repo          # the deprecated key image-rs reads
    sigstore-staging: file:///ignored
  127.0.0.1:5000/test:
    lookaside-staging: file:///write-only
    use-sigstore-attachments: true
)");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->BaseUrlFor(Ref("127.0.0.1:5000/test/app:gpg")), "file:///repo");
  EXPECT_EQ(config->BaseUrlFor(Ref("127.0.0.1:5000/test/other")), "file:///host");  // /test has no read URL
  EXPECT_EQ(config->BaseUrlFor(Ref("127.0.0.1:5000/x")), "file:///host");
  EXPECT_EQ(config->BaseUrlFor(Ref("quay.io/x")), "file:///default");
}

TEST(LookasideConfigTest, LookasideWinsOverSigstoreAndNoMatchWithoutDefault) {
  auto config = LookasideConfig::Parse("docker:\n  quay.io:\n    lookaside: file:///new\n    sigstore: file:///old\n");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->BaseUrlFor(Ref("quay.io/ns/app")), "file:///new");
  EXPECT_EQ(config->BaseUrlFor(Ref("docker.io/library/busybox")), std::nullopt);
  auto empty = LookasideConfig::Parse("  \n");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(LookasideConfigTest, SignatureUrlLayout) {
  // containers/image docker/registries_d.go: <base>/<path>@<algo>=<hex>/signature-<n>.
  Digest d = *Digest::Parse("sha256:" + std::string(64, 'a'));
  EXPECT_EQ(LookasideConfig::SignatureUrl("file:///sigs/", Ref("127.0.0.1:5000/test/app:gpg"), d, 1),
            "file:///sigs/test/app@sha256=" + std::string(64, 'a') + "/signature-1");
  EXPECT_EQ(LookasideConfig::SignatureUrl("file:///s", Ref("busybox"), d, 2),
            "file:///s/library/busybox@sha256=" + std::string(64, 'a') + "/signature-2");
}

TEST(LookasideConfigTest, RefusesMalformedConfigs) {
  const char* cases[] = {
      "docker: [1, 2",                                   // YAML syntax
      "- a\n- b\n",                                      // not a mapping
      "dokcer:\n  a: {lookaside: x}\n",                  // unknown top-level key
      "docker: [a]\n",                                   // docker not a mapping
      "docker:\n  quay.io: [x]\n",                       // namespace not a mapping
      "docker:\n  quay.io:\n    lookasid: file:///x\n",  // unknown namespace key
      "docker:\n  quay.io:\n    lookaside: file:///a\n  quay.io:\n    lookaside: file:///b\n",  // twice
  };
  for (const char* c : cases) {
    auto config = LookasideConfig::Parse(c);
    EXPECT_THAT(config.status(), StatusIs(absl::StatusCode::kInvalidArgument)) << c;
    EXPECT_THAT(std::string(config.status().message()), HasSubstr("invalid sigstore config")) << c;
  }
}

}  // namespace
}  // namespace cdh::image
