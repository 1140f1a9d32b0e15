#include "common/base64.h"

#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"

namespace cdh {
namespace {

using ::cdh::testing::IsOk;
using ::cdh::testing::StatusIs;

TEST(Base64UrlTest, RoundTripsAllLengths) {
  std::string data;
  for (int i = 0; i < 40; ++i) {
    auto decoded = Base64UrlDecode(Base64UrlEncode(data));
    ASSERT_THAT(decoded, IsOk()) << i;
    EXPECT_EQ(*decoded, data);
    data.push_back(static_cast<char>(0xF0 + i));
  }
}

struct BadInput {
  std::string text;
  std::string message_part;
};

// The error names the encoding the caller must use.
class Base64UrlRejectTest : public ::testing::TestWithParam<BadInput> {};

TEST_P(Base64UrlRejectTest, RejectsWithClearMessage) {
  auto r = Base64UrlDecode(GetParam().text);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kInvalidArgument, GetParam().message_part)) << r.status();
  EXPECT_THAT(std::string(r.status().message()), ::testing::HasSubstr("base64url without padding"));
}

INSTANTIATE_TEST_SUITE_P(Table, Base64UrlRejectTest,
                         ::testing::Values(BadInput{"YQ==", "padding"}, BadInput{"YWI=", "padding"},
                                           BadInput{"a+b/", "standard base64"}, BadInput{"ab/c", "standard base64"},
                                           BadInput{"ab c", "invalid character"}, BadInput{"abcde", "invalid length"},
                                           BadInput{"YR", "non-canonical"}, BadInput{"ab\ncd", "invalid character"}));

TEST(Base64StdTest, DecodesPaddedStandard) {
  auto r = Base64StdDecode("HUlOu8NWz8si11OZUzUJMnjiq/iZyHBJZMSD3BaqgMc=");
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->size(), 32u);
  EXPECT_EQ(*Base64StdDecode("YWI="), "ab");
  EXPECT_EQ(*Base64StdDecode(""), "");
}

TEST(Base64StdTest, RejectsUnpaddedUrlSafeAndNonCanonical) {
  for (const char* bad : {"YWI", "a-b_", "YW==", "YWJ=", "Y===", "YW=I", "YQ==YQ=="}) {
    auto r = Base64StdDecode(bad);
    EXPECT_THAT(r, StatusIs(absl::StatusCode::kInvalidArgument)) << bad;
  }
}

}  // namespace
}  // namespace cdh
