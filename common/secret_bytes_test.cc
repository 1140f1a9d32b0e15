#include "common/secret_bytes.h"

#include <gtest/gtest.h>

#include <type_traits>

namespace cdh {
namespace {

static_assert(!std::is_copy_constructible_v<SecretBytes>);
static_assert(!std::is_copy_assignable_v<SecretBytes>);
static_assert(std::is_nothrow_move_constructible_v<SecretBytes>);

TEST(SecretBytesTest, MoveLeavesSourceEmpty) {
  SecretBytes a = SecretBytes::FromString("key material");
  SecretBytes b = std::move(a);
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): asserting the moved-from state
  EXPECT_EQ(b.RevealString(), "key material");
}

TEST(SecretBytesTest, TakeStringWipesSource) {
  std::string source = "plaintext";
  SecretBytes s = SecretBytes::TakeString(source);
  EXPECT_TRUE(source.empty());
  EXPECT_EQ(s.RevealString(), "plaintext");
}

TEST(SecretBytesTest, ClearWipesBuffer) {
  SecretBytes s = SecretBytes::FromString("abcd");
  const uint8_t* data = s.Reveal().data();
  s.Clear();
  EXPECT_TRUE(s.empty());
  // The vector keeps its capacity after clear(); the bytes it held must be zero.
  for (int i = 0; i < 4; ++i) EXPECT_EQ(data[i], 0) << i;
}

TEST(SecretBytesTest, EqualsComparesContentAndLength) {
  SecretBytes s = SecretBytes::FromString("abc");
  const uint8_t same[] = {'a', 'b', 'c'};
  const uint8_t other[] = {'a', 'b', 'd'};
  EXPECT_TRUE(s.Equals(same));
  EXPECT_FALSE(s.Equals(other));
  EXPECT_FALSE(s.Equals(std::span<const uint8_t>(same, 2)));
}

}  // namespace
}  // namespace cdh
