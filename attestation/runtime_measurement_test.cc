// Runtime measurement and its event log (attesters.md §6): crash at every step
// (injected) over emulated TDX RTMRs, and a real SIGKILL of a process measuring into a real
// swtpm PCR.
#include "attestation/runtime_measurement.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "absl/strings/escaping.h"
#include "attestation/fake_tdx_measurements.h"
#include "attestation/fake_tsm_fs.h"
#include "attestation/tdx_attester.h"
#include "attestation/tpm/esys_tpm.h"
#include "attestation/tpm/swtpm_rig.h"
#include "attestation/tpm_attester.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "gtest/gtest.h"

namespace cdh::attestation {
namespace {

using ::cdh::testing::IsOk;
using ::cdh::testing::StatusIs;

using absl::StatusCode;
using crypto::HashAlgorithm;

// Upstream's check vectors (guest-components eventlog tests).
TEST(AaelTest, EventDigestVectors) {
  EXPECT_EQ(crypto::HexEncode(AaelEventDigest(HashAlgorithm::kSha256, "domain operation content")),
            "46df8dacf00a07d34a83cdf56d7978697790787cf2ba1432ef7c38f22cd96351");
  EXPECT_EQ(crypto::HexEncode(AaelEventDigest(HashAlgorithm::kSha384, "domain operation content")),
            "dad5f0e226318ffa9839b75a472c6aa7fdb5834949d0a0a22990cf04d5692440fb00f3aa0609db7e49cd8d793f670d02");
  EXPECT_EQ(
      crypto::HexEncode(AaelEventDigest(HashAlgorithm::kSha512, "domain operation content")),
      "b708d222ca8bd44dfe6ba0c4ca2cbb72379276fba8091025217064be45a813e5d6124ccf073219edb617d1faf007d55061465bdf34b7437"
      "dbdc9a7405bd4e9c0");
}

TEST(AaelTest, EntryLayoutAndReplay) {
  std::string e = AaelEntry(HashAlgorithm::kSha384, 4, "d o c");
  ASSERT_EQ(e.size(), 4 + 4 + 4 + 2 + 48 + 4 + 8 + 5u);
  EXPECT_EQ(e.substr(0, 14), std::string("\x04\0\0\0\x06\0\0\0\x01\0\0\0\x0c\0", 14));
  EXPECT_EQ(e.substr(66, 8), std::string("LEAA\x05\0\0\0", 8));
  auto regs = ReplayAael(HashAlgorithm::kSha384, e + e);
  ASSERT_THAT(regs, IsOk());
  std::string d = AaelEventDigest(HashAlgorithm::kSha384, "d o c");
  std::string r = crypto::Hash(HashAlgorithm::kSha384, std::string(48, '\0') + d);
  EXPECT_EQ(regs->at(4), crypto::Hash(HashAlgorithm::kSha384, r + d));
  EXPECT_THAT(ReplayAael(HashAlgorithm::kSha384, e.substr(0, e.size() - 1)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  std::string flipped = e;
  flipped[e.size() - 1] ^= 1;
  EXPECT_THAT(ReplayAael(HashAlgorithm::kSha384, flipped), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ReplayAael(HashAlgorithm::kSha256, e), StatusIs(absl::StatusCode::kInvalidArgument));
}

class TdxRuntimeTest : public ::testing::Test {
 protected:
  std::shared_ptr<FakeTdxMeasurements> regs_ = std::make_shared<FakeTdxMeasurements>();
  TdxAttester attester_{std::make_shared<FakeTsmFs>("tdx_guest", nullptr), TdxOptions{}, regs_};
  testing::TempDir dir_;
  RuntimeMeasurer::Options Opts() { return {dir_.path() + "/run/eventlog", "", 17}; }
  void ExpectLogReplaysToRtmrs() {
    auto regs = ReplayAael(HashAlgorithm::kSha384, testing::ReadFile(dir_.path() + "/run/eventlog"));
    ASSERT_THAT(regs, IsOk());
    for (const auto& [mr, value] : *regs) EXPECT_EQ(value, *regs_->ReadRtmr(static_cast<int>(mr) - 1)) << mr;
  }
};

TEST_F(TdxRuntimeTest, MeasuresIntoMappedRtmrsAndChecksInput) {
  auto m = RuntimeMeasurer::Open(attester_, Opts());
  ASSERT_THAT(m, IsOk());
  ASSERT_TRUE((*m)->Measure("github.com/confidential-containers", "PullImage", R"({"image":"a", "digest":"b"})").ok());
  ASSERT_TRUE((*m)->Measure("d", "o", "c", 8).ok());  // PCR 8 → MR 3 → RTMR2
  ASSERT_TRUE((*m)->Measure("d", "o", "c", 1).ok());  // PCR 1 → MR 1 → RTMR0
  ExpectLogReplaysToRtmrs();
  EXPECT_NE(*regs_->ReadRtmr(3), std::string(48, '\0'));  // default PCR 17 → RTMR3
  EXPECT_THAT((*m)->Measure("d", "o", "c", 24), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT((*m)->Measure("d", "o", "multi\nline"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT((*m)->Measure("has space", "o", "c"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT((*m)->Measure("", "o", "c"), StatusIs(StatusCode::kInvalidArgument));
  ExpectLogReplaysToRtmrs();
  // RTMR writes take exactly 48 bytes and indices 0..3.
  EXPECT_THAT(attester_.ExtendRuntimeMeasurement(17, std::string(32, 'x')), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(regs_->ExtendRtmr(4, std::string(48, 'x')), StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(TdxRuntimeTest, UnsupportedWithoutSysfs) {
  TdxAttester bare(std::make_shared<FakeTsmFs>("tdx_guest", nullptr), TdxOptions{}, nullptr);
  EXPECT_THAT(RuntimeMeasurer::Open(bare, Opts()), StatusIs(StatusCode::kUnimplemented));
}

// Crash after each step, restart, measure again: no double extension, log replays.
TEST_F(TdxRuntimeTest, CrashAtEveryStepRecovers) {
  for (auto step :
       {RuntimeMeasurer::Step::kWalWritten, RuntimeMeasurer::Step::kExtended, RuntimeMeasurer::Step::kLogAppended}) {
    {
      auto m = RuntimeMeasurer::OpenForTest(attester_, Opts(), [step](RuntimeMeasurer::Step s) { return s == step; });
      ASSERT_THAT(m, IsOk());
      EXPECT_THAT((*m)->Measure("d", "o", "crashing"), StatusIs(StatusCode::kAborted));
    }
    std::string before = *regs_->ReadRtmr(3);
    auto m = RuntimeMeasurer::Open(attester_, Opts());  // restart: recovery
    ASSERT_THAT(m, IsOk());
    EXPECT_EQ(*regs_->ReadRtmr(3), before);  // recovery never extends
    ExpectLogReplaysToRtmrs();
    ASSERT_TRUE((*m)->Measure("d", "o", "after-restart").ok());
    ExpectLogReplaysToRtmrs();
  }
  auto regs = ReplayAael(HashAlgorithm::kSha384, testing::ReadFile(dir_.path() + "/run/eventlog"));
  // kWalWritten: the crashed event never happened; kExtended/kLogAppended: it is logged once.
  std::string log = testing::ReadFile(dir_.path() + "/run/eventlog");
  size_t entry = AaelEntry(HashAlgorithm::kSha384, 4, "d o crashing").size();
  size_t entry2 = AaelEntry(HashAlgorithm::kSha384, 4, "d o after-restart").size();
  EXPECT_EQ(log.size(), 2 * entry + 3 * entry2);
}

TEST_F(TdxRuntimeTest, RegisterMovedElsewhereIsFailedPrecondition) {
  {
    auto m = RuntimeMeasurer::OpenForTest(
        attester_, Opts(), [](RuntimeMeasurer::Step s) { return s == RuntimeMeasurer::Step::kWalWritten; });
    ASSERT_THAT(m, IsOk());
    (void)(*m)->Measure("d", "o", "c");
  }
  ASSERT_TRUE(regs_->ExtendRtmr(3, std::string(48, 'z')).ok());  // someone else
  EXPECT_THAT(RuntimeMeasurer::Open(attester_, Opts()), StatusIs(StatusCode::kFailedPrecondition));
}

// The same with a real process kill: a child measures into swtpm PCR 23 in a loop and is SIGKILLed.
TEST(TpmRuntimeTest, KilledMidStreamThenRestartedReplays) {
  auto rig = SwtpmRig::Start();
  ASSERT_THAT(rig, IsOk());
  testing::TempDir dir;
  RuntimeMeasurer::Options opts{dir.path() + "/eventlog", "", 23};
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto tpm = EsysTpm::Open((*rig)->tcti());
    if (!tpm.ok()) ::_exit(2);
    TpmAttester attester(std::shared_ptr<Tpm>(std::move(tpm).value()), kDefaultTpmAkHandle);
    auto m = RuntimeMeasurer::Open(attester, opts);
    if (!m.ok()) ::_exit(3);
    for (int i = 0;; ++i) {
      if (!(*m)->Measure("github.com/confidential-containers", "PullImage",
                         "{\"image\":\"i" + std::to_string(i) + "\"}")
               .ok()) {
        ::_exit(4);
      }
    }
  }
  size_t one =
      AaelEntry(HashAlgorithm::kSha256, 23, "github.com/confidential-containers PullImage {\"image\":\"i0\"}").size();
  absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (testing::ReadFile(opts.log_path).size() < 5 * one && absl::Now() < deadline) {
    int st;
    if (::waitpid(child, &st, WNOHANG) == child) FAIL() << "measuring child exited " << st;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ::kill(child, SIGKILL);
  int st;
  ::waitpid(child, &st, 0);

  auto tpm = EsysTpm::Open((*rig)->tcti());
  ASSERT_THAT(tpm, IsOk());
  std::shared_ptr<EsysTpm> esys = std::move(tpm).value();
  TpmAttester attester(esys, kDefaultTpmAkHandle);
  auto m = RuntimeMeasurer::Open(attester, opts);  // restart: recovery
  ASSERT_THAT(m, IsOk());
  ASSERT_TRUE((*m)->Measure("github.com/confidential-containers", "PullImage", "{\"image\":\"last\"}").ok());
  auto regs = ReplayAael(HashAlgorithm::kSha256, testing::ReadFile(opts.log_path));
  ASSERT_THAT(regs, IsOk());
  ASSERT_EQ(regs->size(), 1u);
  EXPECT_EQ(regs->at(23), (*esys->ReadPcrs())[23]);
  // PCR 17 cannot be extended at locality 0: a clear error and no leftover record.
  EXPECT_THAT((*m)->Measure("d", "o", "c", 17), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_FALSE(std::filesystem::exists(opts.log_path + ".wal"));
}

}  // namespace
}  // namespace cdh::attestation
