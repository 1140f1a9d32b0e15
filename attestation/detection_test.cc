// TEE detection in upstream's order (attesters.md §1.2) over fake trees, the
// configfs-tsm emulation (no TDX/SNP guest here) and a real swtpm for the TPM-backed probes.
#include <filesystem>
#include <fstream>

#include "attestation/attester_factory.h"
#include "attestation/fake_paravisor.h"
#include "attestation/fake_tee_reports.h"
#include "attestation/fake_tsm_fs.h"
#include "attestation/fuse_tsm_fs.h"
#include "attestation/sample_attester.h"
#include "attestation/tee_platform.h"
#include "attestation/tpm/esys_tpm.h"
#include "attestation/tpm/swtpm_rig.h"
#include "common/base64.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "gtest/gtest.h"

namespace cdh::attestation {
namespace {

using ::cdh::testing::IsOk;
using ::cdh::testing::StatusIs;

using absl::StatusCode;

class DetectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string& r = dir_.path();
    TeePaths& p = platform_.paths;
    p.tsm_report_root = r + "/sys/kernel/config/tsm/report";
    p.tdx_guest_device = r + "/dev/tdx_guest";
    p.tdx_measurements_dir = r + "/sys/devices/virtual/misc/tdx_guest/measurements";
    p.ccel_path = r + "/sys/firmware/acpi/tables/data/CCEL";
    p.sev_guest_platform = r + "/sys/devices/platform/sev-guest";
    p.sev_guest_device = r + "/dev/sev-guest";
    p.csv_guest_device = r + "/dev/csv-guest";
    p.tpm_devices = {r + "/dev/tpmrm0", r + "/dev/tpm0"};
    p.runtime_log_path = r + "/run/attestation-agent/eventlog";
  }
  absl::StatusOr<AttesterChoice> Choose(std::string_view configured = "") {
    AttesterRegistry registry;
    RegisterBuiltinAttesters(registry);
    RegisterHardwareAttesters(registry, platform_);
    return ChooseAttester(configured, registry, DetectionProbes(platform_));
  }
  std::shared_ptr<FakeTsmFs> TdxTsm() {
    return std::make_shared<FakeTsmFs>("tdx_guest", [](std::string_view in) -> absl::StatusOr<std::string> {
      return FakeTdxQuoteV4(in, std::string(48, '\0'));
    });
  }
  testing::TempDir dir_;
  TeePlatform platform_;
};

TEST_F(DetectionTest, NoneIsFailedPreconditionNamingEveryProbe) {
  auto choice = Choose();
  ASSERT_THAT(choice, StatusIs(StatusCode::kFailedPrecondition)) << choice.status();
  std::string msg(choice.status().message());
  for (const std::string& probed :
       {platform_.paths.tsm_report_root, platform_.paths.tdx_guest_device, platform_.paths.sev_guest_platform,
        platform_.paths.csv_guest_device, platform_.paths.tpm_devices[1], std::string("TPM NV 0x01400001"),
        std::string("tee = \"sample\"")}) {
    EXPECT_THAT(std::string(msg), ::testing::HasSubstr(probed)) << probed << " not in: " << msg;
  }
}

TEST_F(DetectionTest, OnlyDevTdxGuest) {
  dir_.Write("dev/tdx_guest", "");
  auto choice = Choose();
  ASSERT_THAT(choice, IsOk());
  EXPECT_EQ(choice->attester->tee(), "tdx");
  EXPECT_THAT(std::string(choice->how), ::testing::HasSubstr("/dev/tdx_guest"));
  // As upstream: quotes need configfs-tsm; the error names it.
  auto ev = choice->attester->GetEvidence("rd", CallContext{});
  EXPECT_FALSE(ev.ok());
  EXPECT_THAT(std::string(ev.status().message()), ::testing::HasSubstr(platform_.paths.tsm_report_root)) << ev.status();
}

TEST_F(DetectionTest, OnlyConfigfsTsmTdxGuest) {
  platform_.tsm = TdxTsm();
  auto choice = Choose();
  ASSERT_THAT(choice, IsOk());
  EXPECT_EQ(choice->attester->tee(), "tdx");
  EXPECT_THAT(std::string(choice->how), ::testing::HasSubstr("configfs-tsm provider tdx_guest")) << choice->how;
  auto ev = choice->attester->GetEvidence(std::string(48, '\x11'), CallContext{});
  ASSERT_THAT(ev, IsOk());
  auto quote = Base64StdDecode(ev->at("quote").get<std::string>());
  ASSERT_THAT(quote, IsOk());
  EXPECT_EQ(quote->substr(kTdxQuoteV4ReportDataOffset, 64), std::string(48, '\x11') + std::string(16, '\0'));
}

TEST_F(DetectionTest, BothInterfacesPlusRtmrSysfsPrefersConfigfs) {
  platform_.tsm = TdxTsm();
  dir_.Write("dev/tdx_guest", "");
  dir_.Write("sys/devices/virtual/misc/tdx_guest/measurements/rtmr3:sha384", std::string(48, '\0'));
  auto choice = Choose();
  ASSERT_THAT(choice, IsOk());
  EXPECT_EQ(choice->attester->tee(), "tdx");
  EXPECT_THAT(std::string(choice->how), ::testing::HasSubstr("configfs-tsm")) << choice->how;
  EXPECT_TRUE(choice->attester->GetEvidence("x", CallContext{}).ok());
  // The measurements sysfs makes runtime measurement available, with 48-byte digests.
  EXPECT_EQ(choice->attester->RuntimeMeasurementDigestSize().value_or(0), 48);
  EXPECT_EQ(choice->attester->RuntimeMeasurementHash(), "sha384");
}

TEST_F(DetectionTest, SevGuestProviderIsNotTdxAndSnpIsDetected) {
  platform_.tsm = std::make_shared<FakeTsmFs>("sev_guest", [](std::string_view in) -> absl::StatusOr<std::string> {
    return FakeSnpReport(in, std::string(32, '\0'));
  });
  std::filesystem::create_directories(platform_.paths.sev_guest_platform);
  auto choice = Choose();
  ASSERT_THAT(choice, IsOk());
  EXPECT_EQ(choice->attester->tee(), "snp");
  auto ev = choice->attester->GetEvidence("x", CallContext{});
  ASSERT_THAT(ev, IsOk());
  EXPECT_TRUE(ev->at("cert_chain").is_null());
}

// Detection and evidence through a real file system that reports configfs's sizes (st_size
// 4096 for `provider` and `generation`, 0 for the blobs), read by the production PosixTsmFs:
// a reader that trusted st_size found no TEE here. Needs root and /dev/fuse.
TEST_F(DetectionTest, ConfigfsTsmWithTheKernelsFileSizes) {
  struct Case {
    std::shared_ptr<FakeTsmFs> tsm;
    const char* tee;
    off_t binary_st_size;
  };
  auto snp = std::make_shared<FakeTsmFs>("sev_guest", [](std::string_view in) -> absl::StatusOr<std::string> {
    return FakeSnpReport(in, std::string(32, '\0'));
  });
  // The last case announces an absurd blob size: it is ignored as well.
  for (const Case& c : {Case{TdxTsm(), "tdx", 0}, Case{snp, "snp", 0}, Case{TdxTsm(), "tdx", 0x81000000}}) {
    testing::TempDir dir;
    TeePlatform platform;
    platform.paths = platform_.paths;
    platform.paths.tsm_report_root = dir.File("report");
    std::filesystem::create_directories(platform.paths.tsm_report_root);
    if (std::string(c.tee) == "snp") std::filesystem::create_directories(platform.paths.sev_guest_platform);
    auto mount = FuseTsmFs::Start(c.tsm, platform.paths.tsm_report_root, 4096, c.binary_st_size);
    if (!mount.ok()) GTEST_SKIP() << mount.status();
    AttesterRegistry registry;
    RegisterBuiltinAttesters(registry);
    RegisterHardwareAttesters(registry, platform);
    auto choice = ChooseAttester("", registry, DetectionProbes(platform));
    ASSERT_THAT(choice, IsOk()) << c.tee;
    EXPECT_EQ(choice->attester->tee(), c.tee);
    auto ev = choice->attester->GetEvidence(std::string(32, '\x22'), CallContext::WithTimeout(absl::Seconds(30)));
    EXPECT_THAT(ev, IsOk()) << c.tee;
    EXPECT_EQ(c.tsm->EntryCount(), 0u) << "every entry is removed";
    std::filesystem::remove_all(platform.paths.sev_guest_platform);
  }
}

TEST_F(DetectionTest, ConfiguredTeeOverridesDetection) {
  platform_.tsm = TdxTsm();
  auto sample = Choose("sample");
  ASSERT_THAT(sample, IsOk());
  EXPECT_EQ(sample->attester->tee(), "sample");
  platform_.tsm = nullptr;
  auto snp = Choose("snp");  // configured but absent: the factory says what is missing
  ASSERT_FALSE(snp.ok());
  EXPECT_THAT(std::string(snp.status().message()), ::testing::HasSubstr(platform_.paths.sev_guest_device))
      << snp.status();
}

TEST_F(DetectionTest, TpmAndAzureVtpmOnSwtpm) {
  auto rig = SwtpmRig::Start();
  ASSERT_THAT(rig, IsOk());
  platform_.paths.tpm_tcti = (*rig)->tcti();
  platform_.paths.azure_hcl_refresh_delay = absl::ZeroDuration();
  {
    auto choice = Choose();
    ASSERT_THAT(choice, IsOk());
    EXPECT_EQ(choice->attester->tee(), "tpm");
  }
  // An HCL report of type SNP in NV 0x01400001 makes it an Azure SNP CVM.
  auto tpm = EsysTpm::Open((*rig)->tcti());
  ASSERT_THAT(tpm, IsOk());
  std::shared_ptr<EsysTpm> esys = std::move(tpm).value();
  ASSERT_THAT(esys->ProvisionRsaAk(kAzureVtpmAkHandle), IsOk());
  FakeParavisorTpm paravisor(esys, HclReportType::kSnp, FakeSnpReport(std::string(64, '\0'), std::string(32, '\0')));
  ASSERT_THAT(paravisor.Boot(), IsOk());
  esys.reset();
  auto choice = Choose();
  ASSERT_THAT(choice, IsOk());
  EXPECT_EQ(choice->attester->tee(), "az-snp-vtpm");
}

TEST_F(DetectionTest, TpmDeviceFileSelectsTpm) {
  dir_.Write("dev/tpm0", "");
  auto probes = DetectionProbes(platform_);
  AttesterRegistry registry;
  registry.Register("tpm", []() -> absl::StatusOr<std::unique_ptr<Attester>> {
    return std::make_unique<SampleAttester>();  // stand-in: only the choice is under test
  });
  auto choice = ChooseAttester("", registry, probes);
  ASSERT_THAT(choice, IsOk());
  EXPECT_THAT(std::string(choice->how), ::testing::HasSubstr("/dev/tpm"));
  EXPECT_EQ(*platform_.TpmTcti(), "device:" + platform_.paths.tpm_devices[1]);
}

}  // namespace
}  // namespace cdh::attestation
