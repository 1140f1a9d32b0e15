#include "image/registry_auth.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"

namespace cdh::image {
namespace {

using ::cdh::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

// base64("alice:s3cret\n"), base64("bob:pw"), base64("carol:x:y")
constexpr char kFile[] = R"({"auths":{
  "reg.example/team/app":{"auth":"YWxpY2U6czNjcmV0Cg=="},
  "reg.example":{"auth":"Ym9iOnB3"},
  "https://index.docker.io/v1/":{"auth":"Y2Fyb2w6eDp5"}}})";

TEST(RegistryAuthFileTest, LooksUpMostSpecificThenHost) {
  auto file = RegistryAuthFile::Parse(SecretBytes::FromString(kFile));
  ASSERT_TRUE(file.ok()) << file.status();
  auto a = (*file)->Lookup(*ImageReference::Parse("reg.example/team/app:v1"));
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->username, "alice");
  EXPECT_EQ(a->password.RevealString(), "s3cret");  // trailing newline trimmed
  auto b = (*file)->Lookup(*ImageReference::Parse("reg.example/other:v1"));
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->username, "bob");
  auto c = (*file)->Lookup(*ImageReference::Parse("busybox"));
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->username, "carol");
  EXPECT_EQ(c->password.RevealString(), "x:y");  // split at the first ':'
  EXPECT_FALSE((*file)->Lookup(*ImageReference::Parse("quay.io/x/y")).has_value());
}

TEST(RegistryAuthFileTest, RefusesMalformedFilesWithoutEchoingSecrets) {
  for (const std::string& bad :
       {std::string("[]"), std::string(R"({"auths":[]})"), std::string(R"({"auths":{"r":{}}})"),
        std::string(R"({"auths":{"r":{"auth":"!!notbase64"}}})"),
        std::string(R"({"auths":{"r":{"auth":"bm9jb2xvbg=="}}})")}) {
    auto f = RegistryAuthFile::Parse(SecretBytes::FromString(bad));
    EXPECT_THAT(f.status(), StatusIs(absl::StatusCode::kInvalidArgument)) << bad;
    EXPECT_THAT(std::string(f.status().message()), HasSubstr("Invalid registry auth file"));
    EXPECT_THAT(std::string(f.status().message()), Not(HasSubstr("nocolon")));
  }
}

}  // namespace
}  // namespace cdh::image
