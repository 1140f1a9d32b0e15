#include "image/manifest.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"

namespace cdh::image {
namespace {

using ::cdh::testing::StatusIs;
using ::testing::HasSubstr;

const std::string kD1 = "sha256:" + std::string(64, '1');
const std::string kD2 = "sha256:" + std::string(64, '2');
const std::string kD3 = "sha256:" + std::string(64, '3');

std::string Manifest(const std::string& media_type_field) {
  return R"({"schemaVersion":2,)" + media_type_field +
         R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" + kD1 +
         R"(","size":10},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":")" + kD2 +
         R"(","size":20,"annotations":{"a":"b"}}]})";
}

TEST(ManifestTest, ClassifiesByMediaTypeContentTypeAndStructure) {
  EXPECT_EQ(*ClassifyManifest(Manifest(R"("mediaType":"application/vnd.oci.image.manifest.v1+json",)"), ""),
            ManifestKind::kImageManifest);
  EXPECT_EQ(*ClassifyManifest(Manifest(R"("mediaType":"application/vnd.docker.distribution.manifest.v2+json",)"), ""),
            ManifestKind::kImageManifest);
  // umoci writes no mediaType: the structure decides.
  EXPECT_EQ(*ClassifyManifest(Manifest(""), "application/octet-stream"), ManifestKind::kImageManifest);
  EXPECT_EQ(*ClassifyManifest(R"({"schemaVersion":2,"manifests":[]})", ""), ManifestKind::kIndex);
  EXPECT_EQ(*ClassifyManifest(R"({"schemaVersion":2,"manifests":[]})",
                              "application/vnd.docker.distribution.manifest.list.v2+json"),
            ManifestKind::kIndex);
}

TEST(ManifestTest, RefusesSchema1AndUnknownTypes) {
  auto s1 = ClassifyManifest(R"({"schemaVersion":1,"name":"x","fsLayers":[]})", "");
  EXPECT_THAT(s1.status(), StatusIs(absl::StatusCode::kUnimplemented));
  EXPECT_THAT(std::string(s1.status().message()), HasSubstr("Unsupported schema version: 1"));
  auto unknown = ClassifyManifest(Manifest(R"("mediaType":"application/vnd.example+json",)"), "");
  EXPECT_THAT(unknown.status(), StatusIs(absl::StatusCode::kUnimplemented));
  EXPECT_THAT(std::string(unknown.status().message()), HasSubstr("Unsupported media type"));
  for (const std::string& bad : {std::string("not json"), std::string("[]"), std::string(R"({"schemaVersion":"2"})"),
                                 std::string(R"({"mediaType":"x"})")}) {
    EXPECT_FALSE(ClassifyManifest(bad, "").ok()) << bad;
  }
}

TEST(ManifestTest, ParsesManifestDescriptors) {
  auto m = ParseImageManifest(Manifest(""));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->config.digest.String(), kD1);
  ASSERT_EQ(m->layers.size(), 1u);
  EXPECT_EQ(m->layers[0].size, 20);
  EXPECT_EQ(m->layers[0].annotations.at("a"), "b");
}

TEST(ManifestTest, RefusesMalformedDescriptors) {
  const std::vector<std::string> bad = {
      R"({"schemaVersion":2,"config":{"digest":"sha256:1","size":1},"layers":[]})",
      R"({"schemaVersion":2,"config":{"digest":")" + kD1 + R"(","size":-1},"layers":[]})",
      R"({"schemaVersion":2,"config":{"digest":")" + kD1 + R"(","size":"1"},"layers":[]})",
      R"({"schemaVersion":2,"config":{"digest":")" + kD1 + R"(","size":1},"layers":{}})",
      R"({"schemaVersion":2,"config":{"digest":")" + kD1 + R"(","size":1},"layers":[{"digest":")" + kD2 +
          R"(","size":1,"annotations":{"a":1}}]})",
      R"({"schemaVersion":2,"layers":[]})",
  };
  for (const std::string& b : bad)
    EXPECT_THAT(ParseImageManifest(b).status(), StatusIs(absl::StatusCode::kInvalidArgument)) << b;
}

TEST(ManifestTest, SelectsPlatformExactVariantFirst) {
  std::string body = R"({"schemaVersion":2,"manifests":[
    {"digest":")" + kD1 +
                     R"(","size":1,"platform":{"os":"unknown","architecture":"unknown"}},
    {"digest":")" + kD2 +
                     R"(","size":1,"platform":{"os":"linux","architecture":"arm64"}},
    {"digest":")" + kD3 +
                     R"(","size":1,"platform":{"os":"linux","architecture":"arm64","variant":"v8"}},
    {"digest":")" + kD1 +
                     R"(","size":1}]})";
  auto index = ParseImageIndex(body);
  ASSERT_TRUE(index.ok()) << index.status();
  EXPECT_EQ(SelectPlatform(*index, {"linux", "arm64", "v8"})->digest.String(), kD3);
  EXPECT_EQ(SelectPlatform(*index, {"linux", "arm64", ""})->digest.String(), kD2);
  auto none = SelectPlatform(*index, {"linux", "amd64", ""});
  EXPECT_THAT(none.status(), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(HostPlatform().os, "linux");
}

TEST(ManifestTest, ParsesConfig) {
  auto c = ParseImageConfig(
      R"({"os":"linux","architecture":"amd64","rootfs":{"type":"layers","diff_ids":[")" + kD1 +
      R"("]},"config":{"Env":["A=1"],"Cmd":["/app/run.sh"],"WorkingDir":"/app","Labels":{"k":"v"},"Volumes":{"/data":{}}}})");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->diff_ids.size(), 1u);
  EXPECT_EQ(c->cmd[0], "/app/run.sh");
  EXPECT_EQ(c->volumes[0], "/data");
  EXPECT_FALSE(ParseImageConfig(R"({"os":"linux","rootfs":{"type":"other","diff_ids":[]}})").ok());
  EXPECT_FALSE(ParseImageConfig(R"({"os":"linux","rootfs":{"type":"layers","diff_ids":["x"]}})").ok());
}

TEST(ManifestTest, LayerMediaTypes) {
  EXPECT_EQ(*LayerCompressionOf("application/vnd.oci.image.layer.v1.tar"), LayerCompression::kNone);
  EXPECT_EQ(*LayerCompressionOf("application/vnd.docker.image.rootfs.diff.tar.gzip"), LayerCompression::kGzip);
  EXPECT_EQ(*LayerCompressionOf("application/vnd.oci.image.layer.v1.tar+zstd"), LayerCompression::kZstd);
  EXPECT_THAT(LayerCompressionOf("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip").status(),
              StatusIs(absl::StatusCode::kUnimplemented));
}

}  // namespace
}  // namespace cdh::image
