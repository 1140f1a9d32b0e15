#include <filesystem>
#include <fstream>

#include "absl/strings/escaping.h"
#include "attestation/attester_factory.h"
#include "attestation/sample_attester.h"
#include "attestation/tee_names.h"
#include "common/testing/status_matchers.h"
#include "gtest/gtest.h"
#include "tests/kbs_kat_vectors.h"

namespace cdh::attestation {
namespace {

using ::cdh::testing::IsOk;
using ::cdh::testing::StatusIs;

// The sample attester is a stand-in for a TEE; these tests check its evidence shape only.
TEST(SampleAttesterTest, EvidenceMatchesSpecVector) {
  SampleAttester attester;
  EXPECT_EQ(attester.tee(), "sample");
  auto ev = attester.GetEvidence(absl::HexStringToBytes(kat::kRuntimeDataSha384Hex), CallContext{});
  ASSERT_THAT(ev, IsOk());
  EXPECT_EQ(ev->dump(), std::string(R"({"report_data":")") + kat::kSampleReportData + R"(","svn":"1"})");
}

TEST(SampleAttesterTest, RejectsEmptyAndOversizeReportData) {
  SampleAttester attester;
  EXPECT_THAT(attester.GetEvidence("", CallContext{}), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(attester.GetEvidence(std::string(65, 'x'), CallContext{}), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_TRUE(attester.GetEvidence(std::string(64, 'x'), CallContext{}).ok());
}

class ChooseAttesterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ =
        std::filesystem::path(::testing::TempDir()) / ("tee-root-" + std::to_string(::getpid()) + "-" +
                                                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(root_);
    std::filesystem::create_directories(root_ / "dev");
    RegisterBuiltinAttesters(registry_);
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  std::filesystem::path root_;
  AttesterRegistry registry_;
};

// No TEE and nothing configured -> an error naming what was probed, not sample.
TEST_F(ChooseAttesterTest, NoTeeAndAutoIsFailedPreconditionNotSample) {
  auto choice = ChooseAttester("", registry_, DefaultTeeProbes(root_.string()));
  ASSERT_FALSE(choice.ok());
  EXPECT_THAT(choice, StatusIs(absl::StatusCode::kFailedPrecondition));
  std::string msg(choice.status().message());
  EXPECT_THAT(std::string(msg), ::testing::HasSubstr("/dev/tdx_guest")) << msg;
  EXPECT_THAT(std::string(msg), ::testing::HasSubstr("/dev/tpm0")) << msg;
  EXPECT_THAT(std::string(msg), ::testing::HasSubstr("tee = \"sample\"")) << msg;
}

TEST_F(ChooseAttesterTest, SampleOnlyWhenConfigured) {
  auto choice = ChooseAttester("sample", registry_, DefaultTeeProbes(root_.string()));
  ASSERT_THAT(choice, IsOk());
  EXPECT_EQ(choice->attester->tee(), "sample");
  EXPECT_THAT(std::string(choice->how), ::testing::HasSubstr("configured"));
}

TEST_F(ChooseAttesterTest, DetectedTeeWithoutAttesterIsUnimplemented) {
  std::ofstream(root_ / "dev/tdx_guest") << "";
  auto choice = ChooseAttester("", registry_, DefaultTeeProbes(root_.string()));
  ASSERT_FALSE(choice.ok());
  EXPECT_THAT(choice, StatusIs(absl::StatusCode::kUnimplemented, "tdx"));
}

TEST_F(ChooseAttesterTest, DetectionPicksRegisteredAttesterInProbeOrder) {
  std::ofstream(root_ / "dev/tpm0") << "";
  registry_.Register("tpm", []() -> absl::StatusOr<std::unique_ptr<Attester>> {
    return std::make_unique<SampleAttester>();  // stand-in: only the choice is under test
  });
  auto choice = ChooseAttester("", registry_, DefaultTeeProbes(root_.string()));
  ASSERT_THAT(choice, IsOk());
  EXPECT_THAT(std::string(choice->how), ::testing::HasSubstr("/dev/tpm0"));
}

// One table of wire names for protocol 0.4.0.
TEST(TeeNamesTest, CurrentSpellingsOnly) {
  for (const char* ok : {"sample", "tdx", "snp", "az-snp-vtpm", "az-tdx-vtpm", "tpm", "sampledevice"}) {
    EXPECT_TRUE(IsKbsTeeName(ok)) << ok;
  }
  for (const char* bad : {"azsnpvtpm", "sev", "Sample", "", "tdx "}) EXPECT_FALSE(IsKbsTeeName(bad)) << bad;
}

TEST_F(ChooseAttesterTest, UnknownConfiguredTeeIsUnimplemented) {
  EXPECT_THAT(ChooseAttester("snp", registry_, {}), StatusIs(absl::StatusCode::kUnimplemented));
}

}  // namespace
}  // namespace cdh::attestation
