#include "attestation/cc_eventlog.h"

#include "common/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace cdh::attestation {
namespace {

using ::cdh::testing::StatusIs;

using ::cdh::testing::IsOk;

std::string U32(uint32_t v) { return std::string{char(v), char(v >> 8), char(v >> 16), char(v >> 24)}; }
std::string U16(uint16_t v) { return std::string{char(v), char(v >> 8)}; }

// One crypto-agile event with one sha384 digest.
std::string AgileEvent(uint32_t mr, const std::string& data) {
  return U32(mr) + U32(0x80000001) + U32(1) + U16(0x0c) + std::string(48, 'd') + U32(data.size()) + data;
}

TEST(CcEventlogTest, HeaderIsUpstreamBytes) {
  std::string h = CcEventlogHeader();
  ASSERT_EQ(h.size(), 69u);
  std::string expected(69, '\0');
  expected[4] = 0x03;                                                           // EV_NO_ACTION
  expected[28] = 0x25;                                                          // event size 37
  expected[56] = 0x02;                                                          // two algorithms
  const char algs[9] = {0x0c, 0x00, 0x30, 0x00, 0x12, 0x00, 0x20, 0x00, 0x00};  // sha384/48, sm3/32, vendor 0
  expected.replace(60, 9, std::string(algs, 9));
  EXPECT_EQ(h, expected);
}

TEST(CcEventlogTest, TrimsAtEndMarker) {
  std::string header = CcEventlogHeader();
  std::string events = header + AgileEvent(1, "abc") + AgileEvent(4, "xyzw");
  for (char fill : {'\xff', '\0'}) {
    std::string table = events + std::string(4096, fill);
    auto t = TrimCcel(table);
    ASSERT_THAT(t, IsOk());
    EXPECT_EQ(*t, events);
  }
}

TEST(CcEventlogTest, MalformedTables) {
  std::string good = CcEventlogHeader() + AgileEvent(1, "abc");
  EXPECT_THAT(TrimCcel(""), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(TrimCcel(good), StatusIs(absl::StatusCode::kInvalidArgument));  // no end marker
  std::string truncated_digest = CcEventlogHeader() + U32(1) + U32(1) + U32(1) + U16(0x0c) + std::string(20, 'd');
  EXPECT_THAT(TrimCcel(truncated_digest), StatusIs(absl::StatusCode::kInvalidArgument));
  std::string unknown_alg = CcEventlogHeader() + U32(1) + U32(1) + U32(1) + U16(0x99) + std::string(8, '\xff');
  EXPECT_THAT(TrimCcel(unknown_alg), StatusIs(absl::StatusCode::kInvalidArgument));
  std::string overrun = CcEventlogHeader() + U32(1) + U32(1) + U32(1) + U16(0x0b) + std::string(32, 'd') +
                        U32(0x7fffffff) + std::string(8, '\xff');
  EXPECT_THAT(TrimCcel(overrun), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(CcEventlogTest, Build) {
  EXPECT_FALSE(BuildCcEventlog(std::nullopt, std::nullopt)->has_value());
  auto only_runtime = BuildCcEventlog(std::nullopt, std::string("RUNTIME"));
  ASSERT_THAT(only_runtime, IsOk());
  EXPECT_EQ(**only_runtime, CcEventlogHeader() + "RUNTIME" + std::string(8, '\xff'));
  std::string events = CcEventlogHeader() + AgileEvent(1, "abc");
  auto both = BuildCcEventlog(events + std::string(64, '\xff'), std::string("RT"));
  ASSERT_THAT(both, IsOk());
  EXPECT_EQ(**both, events + "RT" + std::string(8, '\xff'));
  EXPECT_THAT(BuildCcEventlog(std::string("bad"), std::nullopt), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace cdh::attestation
