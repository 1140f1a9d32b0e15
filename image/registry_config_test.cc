#include "image/registry_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"

namespace cdh::image {
namespace {

using ::cdh::testing::IsOk;
using ::cdh::testing::StatusIs;
using ::testing::ElementsAre;

// upstream's own test configuration (image-rs registry/mod.rs tests), as the TOML → JSON of the
// daemon's loader gives it.
nlohmann::json UpstreamConfig() {
  return nlohmann::json::parse(R"({
    "unqualified-search-registries": ["docker.io", "example1.com"],
    "registry": [
      {"prefix": "example.com/banned", "blocked": true},
      {"prefix": "example.com/foo", "insecure": false, "blocked": false,
       "location": "internal-registry-for-example.com/bar",
       "mirror": [{"location": "example-mirror-0.local/mirror-for-foo"},
                  {"location": "example-mirror-1.local/mirrors/foo", "insecure": true}]},
      {"location": "docker.io", "mirror": [{"location": "123456.mirror.aliyuncs.com"}]},
      {"prefix": "*.wild.example", "location": "tame.example:5000/w"},
      {"prefix": "plain.example:5000", "insecure": true}
    ]})");
}

// "reference|http" per location, for compact expectations.
std::vector<std::string> Sources(const RegistryConfig& config, const std::string& image) {
  auto ref = ImageReference::Parse(image);
  EXPECT_THAT(ref.status(), IsOk());
  auto sources = config.SourcesFor(*ref);
  EXPECT_THAT(sources.status(), IsOk()) << image;
  std::vector<std::string> out;
  if (!sources.ok()) return out;
  for (const PullSource& s : *sources) out.push_back(s.reference.String() + (s.plain_http ? "|http" : "|https"));
  return out;
}

TEST(RegistryConfigTest, MirrorsFirstThenTheRemappedLocation) {
  auto config = RegistryConfig::FromJson(UpstreamConfig());
  ASSERT_THAT(config.status(), IsOk());
  EXPECT_THAT(Sources(*config, "example.com/foo/image:tag"),
              ElementsAre("example-mirror-0.local/mirror-for-foo/image:tag|https",
                          "example-mirror-1.local/mirrors/foo/image:tag|http",
                          "internal-registry-for-example.com/bar/image:tag|https"));
  auto ref = ImageReference::Parse("example.com/foo/image:tag");
  auto sources = config->SourcesFor(*ref);
  ASSERT_THAT(sources.status(), IsOk());
  EXPECT_EQ((*sources)[0].kind, PullSource::Kind::kMirror);
  EXPECT_EQ((*sources)[2].kind, PullSource::Kind::kRemapped);
}

TEST(RegistryConfigTest, ShortNamesAreSearchedOnEveryUnqualifiedSearchRegistry) {
  auto config = RegistryConfig::FromJson(UpstreamConfig());
  ASSERT_THAT(config.status(), IsOk());
  EXPECT_THAT(Sources(*config, "bar:tag"),
              ElementsAre("123456.mirror.aliyuncs.com/library/bar:tag|https", "docker.io/library/bar:tag|https",
                          "example1.com/bar:tag|https"));
  EXPECT_THAT(Sources(*config, "foo/bar:tag"),
              ElementsAre("123456.mirror.aliyuncs.com/foo/bar:tag|https", "docker.io/foo/bar:tag|https",
                          "example1.com/foo/bar:tag|https"));
  // A reference that names docker.io is not a short name: no search (containers/image; image-rs
  // searches for every docker.io reference).
  EXPECT_THAT(Sources(*config, "docker.io/foo/bar:tag"),
              ElementsAre("123456.mirror.aliyuncs.com/foo/bar:tag|https", "docker.io/foo/bar:tag|https"));
}

TEST(RegistryConfigTest, PrefixesAreAnchoredAndEndAtASeparator) {
  auto config = RegistryConfig::FromJson(UpstreamConfig());
  ASSERT_THAT(config.status(), IsOk());
  // Not blocked: the prefix is not followed by ':', '/', '@' or the end.
  EXPECT_THAT(Sources(*config, "example.com/banned-suffix/image:tag"),
              ElementsAre("example.com/banned-suffix/image:tag|https"));
  // Not matched: upstream finds "example.com/foo" anywhere in the string.
  EXPECT_THAT(Sources(*config, "evil.org/example.com/foo:tag"), ElementsAre("evil.org/example.com/foo:tag|https"));
  // A digest reference keeps its digest through the remap.
  const std::string digest = "sha256:" + std::string(64, 'a');
  EXPECT_THAT(Sources(*config, "example.com/foo@" + digest),
              ElementsAre("example-mirror-0.local/mirror-for-foo@" + digest + "|https",
                          "example-mirror-1.local/mirrors/foo@" + digest + "|http",
                          "internal-registry-for-example.com/bar@" + digest + "|https"));
}

TEST(RegistryConfigTest, WildcardPrefixesMatchHostsOfTheDomain) {
  auto config = RegistryConfig::FromJson(UpstreamConfig());
  ASSERT_THAT(config.status(), IsOk());
  EXPECT_THAT(Sources(*config, "a.b.wild.example/x/y:1"), ElementsAre("tame.example:5000/w/x/y:1|https"));
  EXPECT_THAT(Sources(*config, "a.wild.example:443/x:1"), ElementsAre("tame.example:5000/w/x:1|https"));
  EXPECT_THAT(Sources(*config, "wild.example/x:1"), ElementsAre("wild.example/x:1|https"));
}

TEST(RegistryConfigTest, InsecureMeansPlainHttpForThatLocationOnly) {
  auto config = RegistryConfig::FromJson(UpstreamConfig());
  ASSERT_THAT(config.status(), IsOk());
  EXPECT_THAT(Sources(*config, "plain.example:5000/app:v1"), ElementsAre("plain.example:5000/app:v1|http"));
  EXPECT_THAT(Sources(*config, "plain.example:5001/app:v1"), ElementsAre("plain.example:5001/app:v1|https"));
}

TEST(RegistryConfigTest, BlockedEverywhereIsPermissionDenied) {
  auto config = RegistryConfig::FromJson(UpstreamConfig());
  ASSERT_THAT(config.status(), IsOk());
  auto ref = ImageReference::Parse("example.com/banned/image:tag");
  EXPECT_THAT(config->SourcesFor(*ref).status(),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       "failed to compose a legal image reference with given registry configuration: image "
                       "example.com/banned/image:tag is blocked by registry rule"));
  // A remap that composes an illegal reference.
  auto bad = RegistryConfig::FromJson(
      nlohmann::json::parse(R"({"registry":[{"prefix":"example.com/foo","location":"Upper.example/BAD"}]})"));
  ASSERT_THAT(bad.status(), IsOk());
  EXPECT_THAT(bad->SourcesFor(*ImageReference::Parse("example.com/foo:1")).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "failed to compose a legal image reference"));
}

TEST(RegistryConfigTest, NoConfigurationIsTheReferenceItselfOverHttps) {
  RegistryConfig none;
  EXPECT_THAT(Sources(none, "busybox"), ElementsAre("docker.io/library/busybox:latest|https"));
  EXPECT_THAT(Sources(none, "127.0.0.1:5000/a:1"), ElementsAre("127.0.0.1:5000/a:1|https"));
}

TEST(RegistryConfigTest, RefusesMalformedConfigurations) {
  const char* cases[] = {
      R"([])",
      R"({"registry":{}})",
      R"({"registry":[1]})",
      R"({"registry":[{"insecure":true}]})",
      R"({"registry":[{"prefix":"*.example.com"}]})",
      R"({"registry":[{"prefix":"a.example","insecure":"yes"}]})",
      R"({"registry":[{"prefix":"a.example","blocked":1}]})",
      R"({"registry":[{"prefix":7}]})",
      R"({"registry":[{"prefix":"a.example","mirror":{}}]})",
      R"({"registry":[{"prefix":"a.example","mirror":[{"insecure":true}]}]})",
      R"({"registry":[{"prefix":"a.example","mirror":[{"location":"m.example","insecure":"no"}]}]})",
      R"({"unqualified-search-registries":"docker.io"})",
      R"({"unqualified-search-registries":[""]})",
  };
  for (const char* c : cases) {
    EXPECT_THAT(RegistryConfig::FromJson(nlohmann::json::parse(c)).status(),
                StatusIs(absl::StatusCode::kInvalidArgument, "Malwared registry configuration: "))
        << c;
  }
}

}  // namespace
}  // namespace cdh::image
