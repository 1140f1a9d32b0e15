#include "ttrpc/service_registry.h"

#include "common/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace cdh::ttrpc {
namespace {

using ::cdh::testing::IsOk;
using ::cdh::testing::StatusIs;

Handler Echo() {
  return [](std::string_view req, const CallContext&) -> absl::StatusOr<SecretBytes> {
    return SecretBytes::FromString(req);
  };
}

TEST(ServiceRegistryTest, FindsRegisteredMethod) {
  ServiceRegistry r;
  ASSERT_TRUE(r.Register("api.GetResourceService", "GetResource", Echo()).ok());
  auto h = r.Find("api.GetResourceService", "GetResource");
  ASSERT_THAT(h, IsOk());
  EXPECT_EQ((**h)("x", CallContext{})->RevealString(), "x");
}

TEST(ServiceRegistryTest, UnknownServiceIsInvalidArgumentLikeTtrpcRust) {
  ServiceRegistry r;
  ASSERT_TRUE(r.Register("api.GetResourceService", "GetResource", Echo()).ok());
  auto h = r.Find("api.Nope", "GetResource");
  EXPECT_THAT(h, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(h.status().message(), "api.Nope service does not exist");
}

TEST(ServiceRegistryTest, UnknownMethodIsUnimplementedLikeTtrpcRust) {
  ServiceRegistry r;
  ASSERT_TRUE(r.Register("api.GetResourceService", "GetResource", Echo()).ok());
  auto h = r.Find("api.GetResourceService", "Nope");
  EXPECT_THAT(h, StatusIs(absl::StatusCode::kUnimplemented));
  EXPECT_EQ(h.status().message(), "Nope method");
}

TEST(ServiceRegistryTest, RejectsDuplicatesAndEmpties) {
  ServiceRegistry r;
  ASSERT_TRUE(r.Register("s", "m", Echo()).ok());
  EXPECT_THAT(r.Register("s", "m", Echo()), StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(r.Register("", "m", Echo()), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(r.Register("s", "", Echo()), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(r.Register("s", "n", Handler()), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ServiceRegistryTest, RegisterAllTakesAMethodTable) {
  std::map<std::pair<std::string, std::string>, Handler, std::less<>> table;
  table[{"a.S", "M1"}] = Echo();
  table[{"a.S", "M2"}] = Echo();
  table[{"b.T", "M1"}] = Echo();
  ServiceRegistry r;
  ASSERT_THAT(r.RegisterAll(table), IsOk());
  EXPECT_TRUE(r.Find("a.S", "M2").ok());
  EXPECT_TRUE(r.Find("b.T", "M1").ok());
  EXPECT_THAT(r.Find("b.T", "M2"), StatusIs(absl::StatusCode::kUnimplemented));
}

}  // namespace
}  // namespace cdh::ttrpc
