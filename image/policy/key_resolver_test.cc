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
  EXPECT_EQ(*resolver.ReadKey("kbs:///default/cosign-public-key/test", CallContext{}), "PEM");
  EXPECT_THAT(resolver.ReadKey("kbs:///default/cosign-public-key/missing", CallContext{}).status(),
              StatusIs(absl::StatusCode::kNotFound));

  std::string dir = ::testing::TempDir() + "/key_resolver_test";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/k.pub") << "LOCAL";
  EXPECT_EQ(*resolver.ReadKey(dir + "/k.pub", CallContext{}), "LOCAL");
  EXPECT_EQ(*resolver.ReadKey("file://" + dir + "/k.pub", CallContext{}), "LOCAL");
  EXPECT_THAT(resolver.ReadKey(dir + "/none.pub", CallContext{}).status(), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(resolver.ReadKey("k.pub", CallContext{}).status(), StatusIs(absl::StatusCode::kInvalidArgument));
  auto http = resolver.ReadKey("https://example.com/k.pub", CallContext{});
  EXPECT_THAT(http.status(), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(http.status().message()), HasSubstr("scheme `https` not supported"));
  std::filesystem::remove_all(dir);
}

}  // namespace
// The caller's CallContext reaches the broker: a departed caller's key is not fetched.
TEST(ResourceKeyResolverTest, DepartedCallerIsCancelled) {
  resources::FakeResourceProvider kbs;
  kbs.Put("default/cosign-public-key/test", "PEM");
  ResourceKeyResolver resolver(kbs);
  auto departed = std::make_shared<Cancellation>();
  departed->Cancel();
  EXPECT_THAT(resolver.ReadKey("kbs:///default/cosign-public-key/test", CallContext{absl::InfiniteFuture(), departed}),
              StatusIs(absl::StatusCode::kCancelled));
}

}  // namespace cdh::image
