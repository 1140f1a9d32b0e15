#include "resources/resource_uri.h"

#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"

namespace cdh::resources {
namespace {

using ::cdh::testing::IsOk;
using ::cdh::testing::StatusIs;

TEST(ResourceUriTest, ParsesUpstreamForms) {
  auto a = ResourceUri::Parse("kbs:///default/key/1");
  ASSERT_THAT(a, IsOk());
  EXPECT_EQ(a->plugin(), "resource");
  EXPECT_EQ(a->authority(), "");
  EXPECT_EQ(a->ResourcePath(), "default/key/1");
  EXPECT_FALSE(a->query().has_value());
  EXPECT_EQ(a->ToString(), "kbs:///default/key/1");

  auto b = ResourceUri::Parse("kbs://10.0.0.1:8080/repo/type/tag?a=b&c=d");
  ASSERT_THAT(b, IsOk());
  EXPECT_EQ(b->authority(), "10.0.0.1:8080");
  EXPECT_EQ(b->ResourcePath(), "repo/type/tag");
  EXPECT_EQ(*b->query(), "a=b&c=d");
  EXPECT_EQ(b->ToString(), "kbs://10.0.0.1:8080/repo/type/tag?a=b&c=d");

  auto c = ResourceUri::Parse("kbs+pkcs11:///repo/type/tag");
  ASSERT_THAT(c, IsOk());
  EXPECT_EQ(c->plugin(), "pkcs11");
  EXPECT_EQ(c->ToString(), "kbs+pkcs11:///repo/type/tag");

  auto d = ResourceUri::Parse("kbs:///vfio_ap/ab12/secret_id");
  ASSERT_THAT(d, IsOk());
  EXPECT_EQ(d->segments().size(), 3u);
}

class ResourceUriRejectTest : public ::testing::TestWithParam<const char*> {};

TEST_P(ResourceUriRejectTest, RejectsWithInvalidArgument) {
  auto r = ResourceUri::Parse(GetParam());
  ASSERT_FALSE(r.ok()) << GetParam();
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kInvalidArgument)) << GetParam();
}

INSTANTIATE_TEST_SUITE_P(Table, ResourceUriRejectTest,
                         ::testing::Values("", "default/key/1", "file:///etc/passwd", "http://h/r/t/g", "kbs+:///r/t/g",
                                           "kbs:///", "kbs://", "kbs:///r//g", "kbs:///r/t/", "kbs:///r/../g",
                                           "kbs:///r/./g", "kbs:///r/t/g#frag", "kbs:///r/t/g h", "kbs:///r/t/\n",
                                           "kbs+PK CS:///r/t/g", "kbs://host name/r/t/g", "sealed.abc.def.ghi",
                                           "KBS:///r/t/g"));

// A URI over the limit is refused for its length, before the broker would refuse it (414).
TEST(ResourceUriTest, LengthIsBounded) {
  std::string longest = "kbs:///default/key/" + std::string(ResourceUri::kMaxLength - 19, 'a');
  ASSERT_EQ(longest.size(), ResourceUri::kMaxLength);
  EXPECT_THAT(ResourceUri::Parse(longest), IsOk());
  EXPECT_THAT(ResourceUri::Parse(longest + "a"), StatusIs(absl::StatusCode::kInvalidArgument, "2049 bytes"));
}

TEST(ResourceUriTest, HasKbsScheme) {
  EXPECT_TRUE(ResourceUri::HasKbsScheme("kbs:///a/b/c"));
  EXPECT_TRUE(ResourceUri::HasKbsScheme("kbs+x:///a"));
  EXPECT_FALSE(ResourceUri::HasKbsScheme("kbs+://a"));
  EXPECT_FALSE(ResourceUri::HasKbsScheme("test-key"));
  EXPECT_FALSE(ResourceUri::HasKbsScheme("keys/kbs:///a"));
}

}  // namespace
}  // namespace cdh::resources
