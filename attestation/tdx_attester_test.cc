// TDX evidence over the configfs-tsm emulation (no TDX guest here): shape and bytes of
// attesters.md §2.2.
#include "attestation/tdx_attester.h"

#include "attestation/cc_eventlog.h"
#include "attestation/fake_tee_reports.h"
#include "attestation/fake_tsm_fs.h"
#include "common/base64.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "gtest/gtest.h"

namespace cdh::attestation {
namespace {

using ::cdh::testing::IsOk;
using ::cdh::testing::StatusIs;

const std::string kMrConfigId(48, '\x5c');

std::shared_ptr<FakeTsmFs> TdxFs() {
  return std::make_shared<FakeTsmFs>(
      "tdx_guest", [](std::string_view in) -> absl::StatusOr<std::string> { return FakeTdxQuoteV4(in, kMrConfigId); });
}

TEST(TdxAttesterTest, EvidenceShapeAndZeroPaddedReportData) {
  testing::TempDir dir;
  TdxAttester attester(TdxFs(), {dir.path() + "/CCEL", dir.path() + "/eventlog"});
  EXPECT_EQ(attester.tee(), "tdx");
  for (size_t n : {0, 1, 32, 48, 64}) {
    std::string rd(n, '\x42');
    auto ev = attester.GetEvidence(rd, CallContext{});
    ASSERT_THAT(ev, IsOk());
    ASSERT_TRUE(ev->is_object());
    EXPECT_EQ(ev->size(), 2u);
    EXPECT_TRUE(ev->at("cc_eventlog").is_null());
    auto quote = Base64StdDecode(ev->at("quote").get<std::string>());
    ASSERT_THAT(quote, IsOk());
    std::string padded = rd + std::string(64 - n, '\0');
    EXPECT_EQ(quote->substr(kTdxQuoteV4ReportDataOffset, 64), padded) << n;
  }
}

TEST(TdxAttesterTest, OversizeReportDataRejected) {
  TdxAttester attester(TdxFs(), {});
  auto ev = attester.GetEvidence(std::string(65, 'x'), CallContext{});
  EXPECT_THAT(ev, StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(TdxAttesterTest, EventlogFromCcelAndRuntimeLog) {
  testing::TempDir dir;
  std::string events = CcEventlogHeader();
  dir.Write("CCEL", events + std::string(1024, '\xff'));
  dir.Write("eventlog", "RUNTIME-EVENTS");
  TdxAttester attester(TdxFs(), {dir.path() + "/CCEL", dir.path() + "/eventlog"});
  auto ev = attester.GetEvidence("rd", CallContext{});
  ASSERT_THAT(ev, IsOk());
  auto log = Base64StdDecode(ev->at("cc_eventlog").get<std::string>());
  ASSERT_THAT(log, IsOk());
  EXPECT_EQ(*log, events + "RUNTIME-EVENTS" + std::string(8, '\xff'));
}

TEST(TdxAttesterTest, OnlyDevTdxGuestFailsNamingConfigfs) {
  auto tsm = std::make_shared<PosixTsmFs>("/nonexistent/sys/kernel/config/tsm/report");
  TdxAttester attester(tsm, {});
  auto ev = attester.GetEvidence("rd", CallContext{});
  EXPECT_THAT(ev, StatusIs(absl::StatusCode::kNotFound, "/nonexistent/sys/kernel/config/tsm/report"));
}

}  // namespace
}  // namespace cdh::attestation
