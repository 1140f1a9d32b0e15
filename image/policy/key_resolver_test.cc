#include "image/policy/key_resolver.h"

#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"
#include "resources/fake_resource_provider.h"

namespace cdh::image {
namespace {

using ::cdh::testing::StatusIs;
using ::testing::HasSubstr;

TEST(ResourceKeyResolverTest, KbsFileAndErrors) {
  resources::FakeResourceProvider kbs;
  kbs.Put("default/cosign-public-key/test", "PEM");
  ResourceKeyResolver resolver(kbs);
  EXPECT_EQ(*resolver.ReadKey("kbs:///default/cosign-public-key/test", absl::InfiniteFuture()), "PEM");
  EXPECT_THAT(resolver.ReadKey("kbs:///default/cosign-public-key/missing", absl::InfiniteFuture()).status(),
              StatusIs(absl::StatusCode::kNotFound));

  std::string dir = ::testing::TempDir() + "/key_resolver_test";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/k.pub") << "LOCAL";
  EXPECT_EQ(*resolver.ReadKey(dir + "/k.pub", absl::InfiniteFuture()), "LOCAL");
  EXPECT_EQ(*resolver.ReadKey("file://" + dir + "/k.pub", absl::InfiniteFuture()), "LOCAL");
  EXPECT_THAT(resolver.ReadKey(dir + "/none.pub", absl::InfiniteFuture()).status(),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(resolver.ReadKey("k.pub", absl::InfiniteFuture()).status(), StatusIs(absl::StatusCode::kInvalidArgument));
  auto http = resolver.ReadKey("https://example.com/k.pub", absl::InfiniteFuture());
  EXPECT_THAT(http.status(), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(http.status().message()), HasSubstr("scheme `https` not supported"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cdh::image
