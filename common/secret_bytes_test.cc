#include "common/secret_bytes.h"

#include <type_traits>

#include <gtest/gtest.h>

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

// The allocator's free path: the wipe it runs zeroes the block (reading the block after the free
// itself would be a use after free, so the wipe is checked on a live block).
TEST(SanitizingAllocatorTest, TheWipeOfTheFreePathZeroesTheBlock) {
  SanitizingAllocator<uint8_t> alloc;
  uint8_t* p = alloc.allocate(32);
  for (int i = 0; i < 32; ++i) p[i] = 0xAA;
  // Wipe the way deallocate does, then check, then free: the same code path minus the free.
  secret_internal::Wipe(p, 32);
  for (int i = 0; i < 32; ++i) EXPECT_EQ(p[i], 0) << i;
  alloc.deallocate(p, 32);
}

TEST(SecretBytesTest, GrowingKeepsTheContentAndShrinkingWipesTheTail) {
  SecretBytes s;
  for (int i = 0; i < 1000; ++i) s.push_back(static_cast<char>('a' + i % 26));  // several reallocations
  s.Append(std::string_view("tail"));
  ASSERT_EQ(s.size(), 1004u);
  EXPECT_EQ(s.RevealString().substr(1000), "tail");
  const uint8_t* data = s.Reveal().data();
  s.resize(10);
  EXPECT_EQ(s.size(), 10u);
  for (int i = 10; i < 1004; ++i) ASSERT_EQ(data[i], 0) << i;  // same block: resize never reallocates down
}

TEST(SecretBytesTest, WipeForeignClearsTheString) {
  std::string foreign = "a token a library handed us";
  SecretBytes::WipeForeign(foreign);
  EXPECT_TRUE(foreign.empty());
}

}  // namespace
}  // namespace cdh
