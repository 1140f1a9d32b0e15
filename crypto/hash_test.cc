#include "crypto/hash.h"

#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"

namespace cdh::crypto {
namespace {

using ::cdh::testing::StatusIs;

TEST(HashTest, KnownDigests) {
  EXPECT_EQ(HexEncode(Sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(HexEncode(Hash(HashAlgorithm::kSha384, "abc")).substr(0, 16), "cb00753f45a35e8b");
  EXPECT_EQ(Hash(HashAlgorithm::kSha512, "").size(), 64u);
}

TEST(HashTest, ParsesNamesCaseInsensitively) {
  EXPECT_EQ(*ParseHashAlgorithm("SHA384"), HashAlgorithm::kSha384);
  EXPECT_THAT(ParseHashAlgorithm("sm3"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(HashTest, RandomBytesDiffer) {
  auto a = RandomBytes(32);
  auto b = RandomBytes(32);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_FALSE(a->Equals(b->Reveal()));
}

}  // namespace
}  // namespace cdh::crypto

namespace cdh::crypto {
namespace {

TEST(StreamingHashTest, ChunkedEqualsOneShotForEveryAlgorithm) {
  std::string data(100000, 'x');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7);
  for (HashAlgorithm alg : {HashAlgorithm::kSha256, HashAlgorithm::kSha384, HashAlgorithm::kSha512}) {
    StreamingHash h(alg);
    for (size_t off = 0; off < data.size(); off += 4097) h.Update(std::string_view(data).substr(off, 4097));
    EXPECT_EQ(h.Finish(), Hash(alg, data));
  }
  StreamingHash empty(HashAlgorithm::kSha256);
  EXPECT_EQ(HexEncode(empty.Finish()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

}  // namespace
}  // namespace cdh::crypto
