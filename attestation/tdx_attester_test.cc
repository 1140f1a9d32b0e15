// TDX evidence over the configfs-tsm emulation (no TDX guest here): shape and bytes of
// attesters.md §2.2.
#include "attestation/tdx_attester.h"

#include <functional>
#include <vector>

#include "attestation/cc_eventlog.h"
#include "attestation/fake_tee_reports.h"
#include "attestation/fake_tsm_fs.h"
#include "attestation/tdx_quote.h"
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

// A v5 quote: header, body descriptor (type, size), body, signature length and signature.
std::string QuoteV5(std::string_view report_data, uint16_t body_type, uint32_t body_size) {
  std::string v4 = FakeTdxQuoteV4(report_data, kMrConfigId);
  std::string q = v4.substr(0, 48);
  q[0] = 5;
  q.push_back(static_cast<char>(body_type & 0xff));
  q.push_back(static_cast<char>(body_type >> 8));
  for (int i = 0; i < 4; ++i) q.push_back(static_cast<char>((body_size >> (8 * i)) & 0xff));
  std::string body = v4.substr(48, kTdReport10BodySize);
  body.resize(body_size, '\x77');
  std::string signature = v4.substr(48 + kTdReport10BodySize);  // u32 length + bytes
  return q + body + signature;
}

// Our own evidence is checked before it is sent: quotes that are not what we asked for are
// refused with FAILED_PRECONDITION (docs/errors.md), through the configfs-tsm emulation.
TEST(TdxAttesterTest, QuotesThatAreNotWhatWeAskedForAreNotSent) {
  struct Case {
    const char* name;
    std::function<std::string(std::string_view)> quote;
    const char* part;
  };
  std::vector<Case> cases = {
      {"47 bytes", [](std::string_view in) { return FakeTdxQuoteV4(in, kMrConfigId).substr(0, 47); }, "47 bytes"},
      {"header only", [](std::string_view in) { return FakeTdxQuoteV4(in, kMrConfigId).substr(0, 48); }, "malformed"},
      {"v5 with an SGX body", [](std::string_view in) { return QuoteV5(in, 1, 384); }, "body type 1"},
      {"v5 body size lies", [](std::string_view in) { return QuoteV5(in, 2, kTdReport15BodySize); }, "declares"},
      {"version 3",
       [](std::string_view in) {
         std::string q = FakeTdxQuoteV4(in, kMrConfigId);
         q[0] = 3;
         return q;
       },
       "version 3"},
      {"SGX TEE type",
       [](std::string_view in) {
         std::string q = FakeTdxQuoteV4(in, kMrConfigId);
         q[4] = 0;
         return q;
       },
       "TEE type 0"},
      {"other report data", [](std::string_view) { return FakeTdxQuoteV4(std::string(64, 'o'), kMrConfigId); },
       "REPORTDATA"},
      {"trailing bytes", [](std::string_view in) { return FakeTdxQuoteV4(in, kMrConfigId) + "x"; }, "trailing"},
      {"signature length too long",
       [](std::string_view in) {
         std::string q = FakeTdxQuoteV4(in, kMrConfigId);
         q[632] = 100;
         return q;
       },
       "malformed"},
  };
  for (const Case& c : cases) {
    auto fs = std::make_shared<FakeTsmFs>(
        "tdx_guest", [&c](std::string_view in) -> absl::StatusOr<std::string> { return c.quote(in); });
    TdxAttester attester(fs, {});
    auto ev = attester.GetEvidence("asked", CallContext{});
    EXPECT_THAT(ev, StatusIs(absl::StatusCode::kFailedPrecondition, c.part)) << c.name << ": " << ev.status();
  }
  // Well-formed v5 quotes of both TD report versions pass.
  for (uint16_t type : {2, 3}) {
    const uint32_t size = type == 2 ? kTdReport10BodySize : kTdReport15BodySize;
    auto fs = std::make_shared<FakeTsmFs>(
        "tdx_guest",
        [type, size](std::string_view in) -> absl::StatusOr<std::string> { return QuoteV5(in, type, size); });
    TdxAttester attester(fs, {});
    EXPECT_THAT(attester.GetEvidence("asked", CallContext{}), IsOk()) << type;
  }
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
