#include "image/policy/key_resolver.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "resources/fake_resource_provider.h"

namespace cdh::image {
namespace {

TEST(ResourceKeyResolverTest, KbsFileAndErrors) {
  resources::FakeResourceProvider kbs;
  kbs.Put("default/cosign-public-key/test", "PEM");
  ResourceKeyResolver resolver(kbs);
  EXPECT_EQ(*resolver.ReadKey("kbs:///default/cosign-public-key/test", absl::InfiniteFuture()), "PEM");
  EXPECT_EQ(resolver.ReadKey("kbs:///default/cosign-public-key/missing", absl::InfiniteFuture()).status().code(),
            absl::StatusCode::kNotFound);

  std::string dir = ::testing::TempDir() + "/key_resolver_test";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/k.pub") << "LOCAL";
  EXPECT_EQ(*resolver.ReadKey(dir + "/k.pub", absl::InfiniteFuture()), "LOCAL");
  EXPECT_EQ(*resolver.ReadKey("file://" + dir + "/k.pub", absl::InfiniteFuture()), "LOCAL");
  EXPECT_EQ(resolver.ReadKey(dir + "/none.pub", absl::InfiniteFuture()).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(resolver.ReadKey("k.pub", absl::InfiniteFuture()).status().code(), absl::StatusCode::kInvalidArgument);
  auto http = resolver.ReadKey("https://example.com/k.pub", absl::InfiniteFuture());
  EXPECT_EQ(http.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(http.status().message()).find("scheme `https` not supported"), std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cdh::image
