// SNP evidence: report/cert-table JSON against the SEV crate serde layout (attesters.md §2.3),
// over the configfs-tsm emulation and a fake /dev/sev-guest kernel (no SNP guest here).
#include "attestation/snp_attester.h"

#include <cstring>
#include <functional>
#include <vector>

#include "attestation/fake_tee_reports.h"
#include "attestation/fake_tsm_fs.h"
#include "attestation/snp_report.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "gtest/gtest.h"

namespace cdh::attestation {
namespace {

using ::cdh::testing::IsOk;
using ::cdh::testing::StatusIs;

const std::string kHostData(32, '\x77');
constexpr char kVcekGuid[] = "63da758d-e664-4564-adc5-f4b93be8accd";
constexpr char kAskGuid[] = "4ab7b379-bbac-4fe4-a02f-05aef327c782";
constexpr char kOtherGuid[] = "11111111-2222-3333-4444-555555555555";

nlohmann::json Ints(std::string_view b) {
  nlohmann::json a = nlohmann::json::array();
  for (char c : b) a.push_back(static_cast<uint8_t>(c));
  return a;
}

TEST(SnpReportTest, FieldByFieldV3) {
  std::string rd(64, '\x01');
  auto j = SnpReportToJson(FakeSnpReport(rd, kHostData, 3));
  ASSERT_THAT(j, IsOk());
  const std::vector<std::string> keys = {"version",
                                         "guest_svn",
                                         "policy",
                                         "family_id",
                                         "image_id",
                                         "vmpl",
                                         "sig_algo",
                                         "current_tcb",
                                         "plat_info",
                                         "key_info",
                                         "report_data",
                                         "measurement",
                                         "host_data",
                                         "id_key_digest",
                                         "author_key_digest",
                                         "report_id",
                                         "report_id_ma",
                                         "reported_tcb",
                                         "cpuid_fam_id",
                                         "cpuid_mod_id",
                                         "cpuid_step",
                                         "chip_id",
                                         "committed_tcb",
                                         "current",
                                         "committed",
                                         "launch_tcb",
                                         "launch_mit_vector",
                                         "current_mit_vector",
                                         "signature"};
  EXPECT_EQ(j->size(), keys.size());
  for (const auto& k : keys) EXPECT_TRUE(j->contains(k)) << k;
  EXPECT_EQ((*j)["version"], 3);
  EXPECT_EQ((*j)["guest_svn"], 7);
  EXPECT_EQ((*j)["policy"], 0x30000);
  EXPECT_EQ((*j)["vmpl"], 0);
  EXPECT_EQ((*j)["sig_algo"], 1);
  EXPECT_EQ((*j)["plat_info"], 3);
  EXPECT_EQ((*j)["report_data"], Ints(rd));
  EXPECT_EQ((*j)["host_data"], Ints(kHostData));
  EXPECT_EQ((*j)["family_id"].size(), 16u);
  EXPECT_EQ((*j)["family_id"][0], 0x11);
  EXPECT_EQ((*j)["measurement"].size(), 48u);
  EXPECT_EQ((*j)["chip_id"].size(), 64u);
  nlohmann::json tcb = {{"fmc", nullptr}, {"bootloader", 3}, {"tee", 0}, {"snp", 8}, {"microcode", 115}};
  EXPECT_EQ((*j)["current_tcb"], tcb);
  EXPECT_EQ((*j)["reported_tcb"], tcb);
  EXPECT_EQ((*j)["current"], (nlohmann::json{{"major", 1}, {"minor", 55}, {"build", 21}}));
  EXPECT_EQ((*j)["committed"], (nlohmann::json{{"major", 1}, {"minor", 55}, {"build", 20}}));
  EXPECT_EQ((*j)["cpuid_fam_id"], 0x19);
  EXPECT_EQ((*j)["cpuid_mod_id"], 0x11);
  EXPECT_EQ((*j)["cpuid_step"], 1);
  EXPECT_TRUE((*j)["launch_mit_vector"].is_null());
  EXPECT_EQ((*j)["signature"]["r"].size(), 72u);
  EXPECT_EQ((*j)["signature"]["s"].size(), 72u);
  EXPECT_EQ((*j)["signature"]["s"][0], 73);
}

TEST(SnpReportTest, VersionDependentFields) {
  auto v2 = SnpReportToJson(FakeSnpReport(std::string(64, 0), kHostData, 2));
  ASSERT_THAT(v2, IsOk());
  EXPECT_TRUE((*v2)["cpuid_fam_id"].is_null());
  EXPECT_TRUE((*v2)["cpuid_step"].is_null());
  auto v5 = SnpReportToJson(FakeSnpReport(std::string(64, 0), kHostData, 5));
  ASSERT_THAT(v5, IsOk());
  EXPECT_EQ((*v5)["launch_mit_vector"], 5);
  EXPECT_EQ((*v5)["current_mit_vector"], 6);
}

TEST(SnpReportTest, NegativeTable) {
  std::string good = FakeSnpReport(std::string(64, 0), kHostData, 3);
  EXPECT_FALSE(SnpReportToJson(good.substr(0, 1183)).ok());
  EXPECT_FALSE(SnpReportToJson(good + "x").ok());
  std::string v1 = good;
  v1[0] = 1;
  EXPECT_FALSE(SnpReportToJson(v1).ok());
  std::string unknown_cpu = good;
  unknown_cpu[0x188] = 0x17;
  EXPECT_FALSE(SnpReportToJson(unknown_cpu).ok());
  std::string masked = FakeSnpReport(std::string(64, 0), kHostData, 2);
  std::memset(masked.data() + 0x1A0, 0, 64);
  EXPECT_FALSE(SnpReportToJson(masked).ok());
}

TEST(SnpCertTableTest, ParsesKnownAndOtherGuids) {
  std::string table = FakeSnpCertTable({{kVcekGuid, "VCEKDER"}, {kAskGuid, "ASKDER"}, {kOtherGuid, "X"}});
  auto chain = SnpCertTableToJson(table);
  ASSERT_THAT(chain, IsOk());
  ASSERT_EQ(chain->size(), 3u);
  EXPECT_EQ((*chain)[0], (nlohmann::json{{"cert_type", "VCEK"}, {"data", Ints("VCEKDER")}}));
  EXPECT_EQ((*chain)[1]["cert_type"], "ASK");
  EXPECT_EQ((*chain)[2]["cert_type"], (nlohmann::json{{"OTHER", kOtherGuid}}));
}

TEST(SnpCertTableTest, NegativeTable) {
  std::string table = FakeSnpCertTable({{kVcekGuid, "VCEKDER"}});
  EXPECT_FALSE(SnpCertTableToJson(table.substr(0, 30)).ok());  // no terminator
  std::string bad_len = table;
  bad_len[20] = '\x7f';  // length beyond the table
  EXPECT_FALSE(SnpCertTableToJson(bad_len).ok());
  EXPECT_EQ(SnpCertTableToJson(std::string(24, '\0'))->size(), 0u);
}

TEST(SnpAttesterTest, ConfigfsTsmPathWithAuxblob) {
  auto fs = std::make_shared<FakeTsmFs>(
      "sev_guest", [](std::string_view in) -> absl::StatusOr<std::string> { return FakeSnpReport(in, kHostData, 3); },
      [](std::string_view) -> absl::StatusOr<std::string> {
        return FakeSnpCertTable({{kVcekGuid, "VCEK"}});
      });
  SnpAttester attester(fs, nullptr);
  std::string rd(48, '\x33');
  auto ev = attester.GetEvidence(rd, CallContext{});
  ASSERT_THAT(ev, IsOk());
  EXPECT_EQ(ev->size(), 2u);
  EXPECT_EQ((*ev)["attestation_report"]["report_data"], Ints(rd + std::string(16, '\0')));
  EXPECT_EQ((*ev)["cert_chain"][0]["cert_type"], "VCEK");
  EXPECT_THAT(attester.GetEvidence(std::string(65, 'x'), CallContext{}), StatusIs(absl::StatusCode::kInvalidArgument));
}

// Our own evidence is checked before it is sent (size, version, report data): FAILED_PRECONDITION
// for reports that are not what we asked for, through the configfs-tsm emulation.
TEST(SnpAttesterTest, ReportsThatAreNotWhatWeAskedForAreNotSent) {
  struct Case {
    const char* name;
    std::function<std::string(std::string_view)> report;
    const char* part;
  };
  std::vector<Case> cases = {
      {"short", [](std::string_view in) { return FakeSnpReport(in, kHostData, 3).substr(0, 1000); }, "1000 bytes"},
      {"version 1",
       [](std::string_view in) {
         std::string r = FakeSnpReport(in, kHostData, 3);
         r[0] = 1;
         return r;
       },
       "version 1"},
      {"version 9",
       [](std::string_view in) {
         std::string r = FakeSnpReport(in, kHostData, 3);
         r[0] = 9;
         return r;
       },
       "version 9"},
      {"other report data", [](std::string_view) { return FakeSnpReport(std::string(64, 'o'), kHostData, 3); },
       "REPORT_DATA"},
  };
  for (const Case& c : cases) {
    auto fs = std::make_shared<FakeTsmFs>(
        "sev_guest", [&c](std::string_view in) -> absl::StatusOr<std::string> { return c.report(in); });
    SnpAttester attester(fs, nullptr);
    auto ev = attester.GetEvidence("asked", CallContext{});
    EXPECT_THAT(ev, StatusIs(absl::StatusCode::kFailedPrecondition, c.part)) << c.name << ": " << ev.status();
  }
}

// A fake kernel for SNP_GET_EXT_REPORT: first asks for a bigger certificate buffer, then answers.
struct FakeSevKernel {
  uint32_t announce = 0x2000;
  int calls = 0;
  std::string last_user_data;
  uint32_t last_vmpl = 99;
  int operator()(int, unsigned long request, void* arg) {
    ++calls;
    if (request != SnpGetExtReportIoctl()) {
      errno = ENOTTY;
      return -1;
    }
    auto* io = static_cast<SnpGuestRequestIoctlRaw*>(arg);
    auto* req = reinterpret_cast<SnpExtReportReqRaw*>(io->req_data);
    auto* resp = reinterpret_cast<SnpReportRespRaw*>(io->resp_data);
    if (io->msg_version != 1) return errno = EINVAL, -1;
    last_user_data.assign(reinterpret_cast<char*>(req->data.user_data), 64);
    last_vmpl = req->data.vmpl;
    if (req->certs_len < announce) {
      req->certs_len = announce;
      io->exitinfo2 = uint64_t{kSnpVmmErrInvalidLen} << 32;
      errno = EIO;
      return -1;
    }
    std::string report = FakeSnpReport(last_user_data, kHostData, 3);
    uint32_t status = 0, size = 1184;
    std::memcpy(resp->data, &status, 4);
    std::memcpy(resp->data + 4, &size, 4);
    std::memcpy(resp->data + 32, report.data(), report.size());
    std::string table = FakeSnpCertTable({{kVcekGuid, "VCEK"}});
    std::memcpy(reinterpret_cast<void*>(req->certs_address), table.data(), table.size());
    return 0;
  }
};

TEST(SevGuestDeviceTest, PackingMatchesUapi) {
  SnpReportReqRaw req = PackSnpReportReq(std::string(64, '\xab'), 2);
  const auto* raw = reinterpret_cast<const uint8_t*>(&req);
  EXPECT_EQ(raw[0], 0xab);
  EXPECT_EQ(raw[63], 0xab);
  EXPECT_EQ(raw[64], 2);  // vmpl u32 LE at offset 64
  for (size_t i = 68; i < sizeof req; ++i) EXPECT_EQ(raw[i], 0) << i;
  EXPECT_EQ(offsetof(SnpExtReportReqRaw, certs_address), 96u);
  EXPECT_EQ(offsetof(SnpExtReportReqRaw, certs_len), 104u);
  EXPECT_EQ(offsetof(SnpGuestRequestIoctlRaw, req_data), 8u);
  EXPECT_EQ(offsetof(SnpGuestRequestIoctlRaw, exitinfo2), 24u);
  EXPECT_EQ(SnpGetExtReportIoctl(), 0xC0205302ul);  // _IOWR('S', 2, 32 bytes)
  SnpReportRespRaw resp{};
  uint32_t status = 0x16;
  std::memcpy(resp.data, &status, 4);
  EXPECT_THAT(ParseSnpReportResp(resp), StatusIs(absl::StatusCode::kUnavailable));
  status = 0;
  uint32_t size = 1000;
  std::memcpy(resp.data, &status, 4);
  std::memcpy(resp.data + 4, &size, 4);
  EXPECT_THAT(ParseSnpReportResp(resp), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(SevGuestDeviceTest, RetriesWithAnnouncedCertBuffer) {
  testing::TempDir dir;
  std::string dev = dir.Write("sev-guest", "");
  auto kernel = std::make_shared<FakeSevKernel>();
  auto device = std::make_unique<LinuxSevGuestDevice>(
      dev, [kernel](int fd, unsigned long r, void* a) { return (*kernel)(fd, r, a); });
  SnpAttester attester(nullptr, std::move(device));
  auto ev = attester.GetEvidence("nonce", CallContext{});
  ASSERT_THAT(ev, IsOk());
  EXPECT_EQ(kernel->calls, 2);
  EXPECT_EQ(kernel->last_vmpl, 0u);
  EXPECT_EQ(kernel->last_user_data, "nonce" + std::string(59, '\0'));
  EXPECT_EQ((*ev)["cert_chain"][0]["data"], Ints("VCEK"));
}

TEST(SevGuestDeviceTest, AbsurdAnnouncedCertSizeRejectedBeforeAllocating) {
  testing::TempDir dir;
  std::string dev = dir.Write("sev-guest", "");
  auto kernel = std::make_shared<FakeSevKernel>();
  kernel->announce = 0x81000000;
  LinuxSevGuestDevice device(dev, [kernel](int fd, unsigned long r, void* a) { return (*kernel)(fd, r, a); });
  auto r = device.GetExtReport(std::string(64, '\0'), 0);
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kResourceExhausted, dev));
}

TEST(SevGuestDeviceTest, MissingDeviceIsUnavailable) {
  LinuxSevGuestDevice device("/nonexistent/dev/sev-guest");
  auto r = device.GetExtReport(std::string(64, '\0'), 0);
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kUnavailable, "/nonexistent/dev/sev-guest"));
}

}  // namespace
}  // namespace cdh::attestation
