#include "common/strings.h"

#include <gtest/gtest.h>

namespace cdh {
namespace {

TEST(StringsTest, StrCatMixesTypes) {
  std::string_view sv = "b";
  EXPECT_EQ(StrCat("a", sv, std::string("c"), 'd', 42, static_cast<size_t>(7), -3), "abcd427-3");
}

TEST(StringsTest, SplitKeepsEmptyParts) {
  auto parts = StrSplit("a..b.", '.');
  ASSERT_EQ(parts.size(), 4u);
  EXPECT_EQ(parts[0], "a");
  EXPECT_EQ(parts[1], "");
  EXPECT_EQ(parts[2], "b");
  EXPECT_EQ(parts[3], "");
  EXPECT_EQ(StrSplit("", '.').size(), 1u);
}

TEST(StringsTest, JoinAndLower) {
  EXPECT_EQ(StrJoin({"x", "y", "z"}, ", "), "x, y, z");
  EXPECT_EQ(AsciiToLower("KbS-Ä"), "kbs-Ä");
}

}  // namespace
}  // namespace cdh
