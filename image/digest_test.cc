#include "image/digest.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"

namespace cdh::image {
namespace {

using ::cdh::testing::StatusIs;

constexpr char kEmptySha256[] = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

TEST(DigestTest, ParsesTheThreeAlgorithms) {
  auto d = Digest::Parse(kEmptySha256);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->algorithm(), "sha256");
  EXPECT_EQ(d->String(), kEmptySha256);
  EXPECT_TRUE(Digest::Parse("sha384:" + std::string(96, 'a')).ok());
  EXPECT_TRUE(Digest::Parse("sha512:" + std::string(128, '0')).ok());
}

TEST(DigestTest, RefusesMalformedDigests) {
  const std::string hex64(64, 'a');
  for (const std::string& bad :
       {std::string(""), std::string("sha256"), "sha256:" + hex64.substr(1), "sha256:" + hex64 + "a",
        "sha256:" + std::string(63, 'a') + "A", "sha256:" + std::string(63, 'a') + "g", "md5:" + hex64,
        "SHA256:" + hex64, ":" + hex64, "sha384:" + hex64}) {
    EXPECT_THAT(Digest::Parse(bad).status(), StatusIs(absl::StatusCode::kInvalidArgument)) << bad;
  }
}

TEST(DigestTest, MatchesAndHasherAgree) {
  EXPECT_EQ(Digest::Sha256Of(std::string_view("")).String(), kEmptySha256);
  Digest d = Digest::Sha256Of(std::string_view("hello world"));
  EXPECT_TRUE(d.Matches("hello world"));
  EXPECT_FALSE(d.Matches("hello worle"));
  DigestHasher h;
  h.Update(std::string_view("hello "));
  h.Update(std::string_view("world"));
  EXPECT_EQ(h.size(), 11u);
  EXPECT_EQ(h.Finish(), d);
  Digest d512 = Digest::Of("sha512", "x");
  EXPECT_EQ(d512.hex().size(), 128u);
  EXPECT_TRUE(d512.Matches("x"));
}

}  // namespace
}  // namespace cdh::image
