// Init data (attesters.md §5): parsing, digest, RCAR value, and the binding on every TEE that has
// one: tdx (MRCONFIGID, emulated registers), snp (HOST_DATA, configfs-tsm emulation) and tpm
// (PCR 8, real swtpm).
#include "attestation/init_data.h"

#include <cstring>

#include "attestation/fake_tdx_measurements.h"
#include "attestation/fake_tee_reports.h"
#include "attestation/fake_tsm_fs.h"
#include "attestation/sample_attester.h"
#include "attestation/snp_attester.h"
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

std::string Toml(std::string_view alg) {
  return "version = \"0.1.0\"\nalgorithm = \"" + std::string(alg) +
         "\"\n[data]\n\"cdh.toml\" = '''\nsocket = \"unix:///run/cdh.sock\"\n'''\n";
}

TEST(InitDataTest, ParseDigestAndRcarValue) {
  for (auto [name, alg] :
       {std::pair{"sha256", crypto::HashAlgorithm::kSha256}, std::pair{"sha384", crypto::HashAlgorithm::kSha384},
        std::pair{"sha512", crypto::HashAlgorithm::kSha512}}) {
    auto d = ParseInitData(Toml(name));
    ASSERT_THAT(d, IsOk());
    EXPECT_EQ(d->algorithm, alg);
    EXPECT_EQ(d->digest, crypto::Hash(alg, Toml(name)));  // over the exact bytes
    EXPECT_EQ(d->RcarValue(), (nlohmann::json{{"format", "toml"}, {"body", Toml(name)}}));
  }
  // Whitespace is not canonicalised: a different text is a different digest.
  EXPECT_NE(ParseInitData(Toml("sha256"))->digest, ParseInitData(Toml("sha256") + "\n")->digest);
}

TEST(InitDataTest, NegativeTable) {
  for (const std::string& bad : {std::string("not = [toml"), std::string("algorithm = \"sha256\"\n"),
                                 std::string("version = \"0.2.0\"\nalgorithm = \"sha256\"\n"), Toml("SHA256"),
                                 Toml("sha-256"), Toml("sm3"), Toml("md5")}) {
    EXPECT_THAT(ParseInitData(bad), StatusIs(StatusCode::kInvalidArgument)) << bad;
  }
}

TEST(InitDataTest, LoadMissingIsNoInitData) {
  testing::TempDir dir;
  auto none = LoadInitData(dir.path() + "/initdata.toml");
  ASSERT_THAT(none, IsOk());
  EXPECT_FALSE(none->has_value());
  auto some = LoadInitData(dir.Write("initdata.toml", Toml("sha384")));
  ASSERT_TRUE(some.ok() && some->has_value());
  auto bad = LoadInitData(dir.Write("bad.toml", "x = ["));
  EXPECT_THAT(bad, StatusIs(StatusCode::kInvalidArgument, "bad.toml"));
}

TEST(InitDataBindingTest, SampleHasNoBinding) {
  SampleAttester sample;
  bool bound = true;
  EXPECT_TRUE(BindInitData(sample, *ParseInitData(Toml("sha384")), CallContext{}, &bound).ok());
  EXPECT_FALSE(bound);
}

// TDX: MRCONFIGID is emulated (no TDX guest here).
TEST(InitDataBindingTest, TdxMrConfigId) {
  InitData d384 = *ParseInitData(Toml("sha384"));
  InitData d256 = *ParseInitData(Toml("sha256"));
  auto tsm = std::make_shared<FakeTsmFs>(
      "tdx_guest", [](std::string_view) -> absl::StatusOr<std::string> { return std::string("q"); });
  bool bound = false;
  TdxAttester ok384(tsm, {}, std::make_shared<FakeTdxMeasurements>(d384.digest));
  EXPECT_TRUE(BindInitData(ok384, d384, CallContext{}, &bound).ok());
  EXPECT_TRUE(bound);
  TdxAttester ok256(tsm, {}, std::make_shared<FakeTdxMeasurements>(d256.digest + std::string(16, '\0')));
  EXPECT_TRUE(BindInitData(ok256, d256, CallContext{}, &bound).ok());  // zero-padded to 48
  EXPECT_THAT(BindInitData(ok384, d256, CallContext{}, &bound), StatusIs(StatusCode::kPermissionDenied));
  TdxAttester no_sysfs(tsm, {}, nullptr);
  EXPECT_THAT(BindInitData(no_sysfs, d384, CallContext{}, &bound), StatusIs(StatusCode::kUnavailable));
}

// Older kernels: MRCONFIGID from a TDREPORT through the /dev/tdx_guest ioctl (fake kernel: no TDX
// guest here); the RTMRs can be read but not extended.
TEST(InitDataBindingTest, TdxMrConfigIdThroughTdReportIoctl) {
  InitData d384 = *ParseInitData(Toml("sha384"));
  testing::TempDir dir;
  std::string dev = dir.Write("tdx_guest", "");
  int calls = 0;
  auto fake_kernel = [&](int, unsigned long request, void* arg) -> int {
    ++calls;
    if (request != TdxCmdGetReport0()) return errno = ENOTTY, -1;
    auto* req = static_cast<TdxReportReqRaw*>(arg);
    std::memcpy(req->tdreport + kTdReportMrConfigIdOffset, d384.digest.data(), 48);
    std::memset(req->tdreport + kTdReportRtmrOffset + 48 * 2, 0x22, 48);
    return 0;
  };
  EXPECT_EQ(TdxCmdGetReport0(), 0xC4405401ul);  // _IOWR('T', 1, 1088 bytes)
  auto regs = std::make_shared<TdxGuestDeviceMeasurements>(dev, fake_kernel);
  EXPECT_EQ(*regs->ReadRtmr(2), std::string(48, '\x22'));
  EXPECT_THAT(regs->ExtendRtmr(2, std::string(48, 'x')), StatusIs(StatusCode::kUnimplemented));
  auto tsm = std::make_shared<FakeTsmFs>("tdx_guest", nullptr);
  TdxAttester attester(tsm, {}, regs);
  bool bound = false;
  EXPECT_TRUE(BindInitData(attester, d384, CallContext{}, &bound).ok());
  EXPECT_FALSE(attester.RuntimeMeasurementDigestSize().has_value());
  EXPECT_THAT(attester.ExtendRuntimeMeasurement(17, std::string(48, 'x')), StatusIs(StatusCode::kUnimplemented));
  EXPECT_THAT(BindInitData(attester, *ParseInitData(Toml("sha512")), CallContext{}, &bound),
              StatusIs(StatusCode::kPermissionDenied));
  TdxGuestDeviceMeasurements missing("/nonexistent/dev/tdx_guest");
  EXPECT_THAT(missing.ReadMrConfigId(), StatusIs(StatusCode::kUnavailable));
}

// SNP: HOST_DATA through the configfs-tsm emulation (no SNP guest here).
TEST(InitDataBindingTest, SnpHostData) {
  InitData d384 = *ParseInitData(Toml("sha384"));
  std::string host_data = d384.digest.substr(0, 32);  // sha384 → first 32 bytes
  auto tsm = std::make_shared<FakeTsmFs>("sev_guest", [host_data](std::string_view in) -> absl::StatusOr<std::string> {
    return FakeSnpReport(in, host_data);
  });
  SnpAttester attester(tsm, nullptr);
  bool bound = false;
  EXPECT_TRUE(BindInitData(attester, d384, CallContext{}, &bound).ok());
  EXPECT_TRUE(bound);
  EXPECT_THAT(BindInitData(attester, *ParseInitData(Toml("sha256")), CallContext{}, &bound),
              StatusIs(StatusCode::kPermissionDenied));
}

// TPM: PCR 8 on a real swtpm; idempotent across restarts, refuses a second, different binding.
TEST(InitDataBindingTest, TpmPcr8) {
  auto rig = SwtpmRig::Start();
  ASSERT_THAT(rig, IsOk());
  auto opened = EsysTpm::Open((*rig)->tcti());
  ASSERT_THAT(opened, IsOk());
  std::shared_ptr<EsysTpm> tpm = std::move(opened).value();
  TpmAttester attester(tpm, kDefaultTpmAkHandle);
  InitData d256 = *ParseInitData(Toml("sha256"));
  bool bound = false;
  ASSERT_TRUE(BindInitData(attester, d256, CallContext{}, &bound).ok());
  EXPECT_TRUE(bound);
  std::string expected = crypto::Sha256(std::string(32, '\0') + d256.digest);  // what Trustee checks
  EXPECT_EQ((*tpm->ReadPcrs())[8], expected);
  // A restarted daemon binds again: no second extension.
  TpmAttester restarted(tpm, kDefaultTpmAkHandle);
  ASSERT_TRUE(BindInitData(restarted, d256, CallContext{}, &bound).ok());
  EXPECT_EQ((*tpm->ReadPcrs())[8], expected);
  InitData other = *ParseInitData(Toml("sha256") + "# other\n");
  EXPECT_THAT(BindInitData(attester, other, CallContext{}, &bound), StatusIs(StatusCode::kPermissionDenied));
  auto wrong_alg = BindInitData(attester, *ParseInitData(Toml("sha384")), CallContext{}, &bound);
  EXPECT_THAT(wrong_alg, StatusIs(StatusCode::kInvalidArgument, "sha256"));
}

}  // namespace
}  // namespace cdh::attestation
