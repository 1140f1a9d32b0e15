// The attestation agent's API over real attesters: `sample`, and `tdx` over emulated RTMRs and
// MRCONFIGID (attestation/fake_tdx_measurements.h stands in for the TDX guest driver, which needs
// TDX hardware). The broker token path runs end to end in tests/guest_components_e2e_test.cc.
#include "hub/attestation_agent.h"

#include "attestation/fake_tdx_measurements.h"
#include "attestation/fake_tsm_fs.h"
#include "attestation/sample_attester.h"
#include "attestation/tdx_attester.h"
#include "common/json.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "crypto/hash.h"
#include "gtest/gtest.h"

namespace cdh {
namespace {

using absl::StatusCode;
using ::cdh::testing::IsOk;
using ::cdh::testing::StatusIs;

const CallContext kCtx = CallContext::WithTimeout(absl::Seconds(10));

std::unique_ptr<AttestationAgent> SampleAgent(bool eventlog_enabled) {
  AttestationAgentParts parts;
  parts.attester = std::make_unique<attestation::SampleAttester>();
  parts.eventlog_enabled = eventlog_enabled;
  return std::move(AttestationAgent::New(std::move(parts))).value();
}

std::unique_ptr<attestation::Attester> Tdx(std::shared_ptr<attestation::FakeTdxMeasurements> regs) {
  return std::make_unique<attestation::TdxAttester>(std::make_shared<attestation::FakeTsmFs>("tdx_guest", nullptr),
                                                    attestation::TdxOptions{}, std::move(regs));
}

TEST(AttestationAgentTest, EvidenceCarriesTheRuntimeDataVerbatim) {
  auto agent = SampleAgent(false);
  auto evidence = agent->GetEvidence("runtime-data", kCtx);
  ASSERT_THAT(evidence, IsOk());
  auto json = ParseJson(*evidence, "evidence");
  ASSERT_THAT(json, IsOk());
  EXPECT_EQ((*json)["report_data"], "cnVudGltZS1kYXRh");
  EXPECT_THAT(agent->GetEvidence(std::string(65, 'x'), kCtx), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(agent->GetTeeType(), "sample");
  EXPECT_TRUE(agent->GetAdditionalTees().empty());
  auto additional = agent->GetAdditionalEvidence("runtime-data", kCtx);
  ASSERT_THAT(additional, IsOk());
  EXPECT_EQ(*additional, "");
}

TEST(AttestationAgentTest, TokenTypes) {
  auto agent = SampleAgent(false);
  EXPECT_THAT(agent->GetToken("kbs", kCtx), StatusIs(StatusCode::kFailedPrecondition, "not configured"));
  EXPECT_THAT(agent->GetToken("coco_as", kCtx), StatusIs(StatusCode::kUnimplemented));
  EXPECT_THAT(agent->GetToken("other", kCtx), StatusIs(StatusCode::kInvalidArgument, "Unsupported token type"));
}

TEST(AttestationAgentTest, MeasurementResultsFollowUpstreamOrder) {
  EXPECT_EQ(*SampleAgent(false)->ExtendRuntimeMeasurement("d", "o", "c", std::nullopt), MeasurementResult::kNotEnabled);
  EXPECT_EQ(*SampleAgent(true)->ExtendRuntimeMeasurement("d", "o", "c", std::nullopt),
            MeasurementResult::kNotSupported);
}

TEST(AttestationAgentTest, AgentEventsAndPullEventsShareOneLogThatReplaysToTheRegisters) {
  testing::TempDir dir;
  auto regs = std::make_shared<attestation::FakeTdxMeasurements>();
  attestation::RuntimeMeasurer::Options options;
  options.log_path = dir.File("eventlog");
  auto log = MeasurementLog::Open(Tdx(regs), options);
  ASSERT_THAT(log, IsOk());
  AttestationAgentParts parts;
  parts.attester = Tdx(regs);
  parts.eventlog_enabled = true;
  parts.log = *log;
  auto agent = AttestationAgent::New(std::move(parts));
  ASSERT_THAT(agent, IsOk());

  EXPECT_EQ(*(*agent)->ExtendRuntimeMeasurement("example.org", "Launch", "x", std::nullopt), MeasurementResult::kOk);
  EXPECT_EQ(*(*agent)->ExtendRuntimeMeasurement("example.org", "Launch", "y", 8), MeasurementResult::kOk);
  // The data hub's post-pull measurement goes through the same log object.
  ASSERT_THAT((*log)->Measure("github.com/confidential-containers", "PullImage", R"({"image":"i", "digest":"d"})"),
              IsOk());
  EXPECT_THAT((*agent)->ExtendRuntimeMeasurement("two words", "Launch", "x", std::nullopt),
              StatusIs(StatusCode::kInvalidArgument));

  std::string text = testing::ReadFile(dir.File("eventlog"));
  EXPECT_NE(text.find("example.org Launch x"), std::string::npos);
  EXPECT_NE(text.find("github.com/confidential-containers PullImage"), std::string::npos);
  auto replayed = attestation::ReplayAael(crypto::HashAlgorithm::kSha384, text);
  ASSERT_THAT(replayed, IsOk());
  EXPECT_EQ(replayed->size(), 2u);  // default PCR 17 -> RTMR3 (MR 4), PCR 8 -> RTMR2 (MR 3)
  for (const auto& [mr, value] : *replayed) EXPECT_EQ(value, *regs->ReadRtmr(static_cast<int>(mr) - 1)) << mr;
}

TEST(AttestationAgentTest, BindInitDataChecksTheTeeOrIsUnsupported) {
  EXPECT_THAT(SampleAgent(false)->BindInitData(std::string(48, 'd'), kCtx), IsOk());  // upstream `Unsupported`
  std::string digest = crypto::Hash(crypto::HashAlgorithm::kSha384, "init data");
  AttestationAgentParts parts;
  parts.attester = Tdx(std::make_shared<attestation::FakeTdxMeasurements>(digest));
  auto agent = AttestationAgent::New(std::move(parts));
  ASSERT_THAT(agent, IsOk());
  EXPECT_THAT((*agent)->BindInitData(digest, kCtx), IsOk());
  EXPECT_THAT((*agent)->BindInitData(crypto::Hash(crypto::HashAlgorithm::kSha384, "other"), kCtx),
              StatusIs(StatusCode::kPermissionDenied));
}

}  // namespace
}  // namespace cdh
