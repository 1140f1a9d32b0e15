// az-tdx-vtpm / az-snp-vtpm on a real swtpm. The Azure paravisor is played by FakeParavisorTpm
// and IMDS by a local HTTP server on 127.0.0.1:0; both stand in for Azure services that cannot
// run here.
#include "attestation/az_vtpm_attester.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "absl/strings/escaping.h"
#include "absl/synchronization/notification.h"
#include "attestation/fake_imds.h"
#include "attestation/fake_paravisor.h"
#include "attestation/fake_tee_reports.h"
#include "attestation/tpm/esys_tpm.h"
#include "attestation/tpm/swtpm_fixture.h"
#include "attestation/tpm/tpm_structures.h"
#include "common/base64.h"
#include "common/json.h"
#include "common/strings.h"
#include "common/testing/status_matchers.h"
#include "crypto/hash.h"
#include "crypto/rsa_pkcs1.h"
#include "gtest/gtest.h"

namespace cdh::attestation {
namespace {

using ::cdh::testing::IsOk;
using ::cdh::testing::StatusIs;

class AzVtpmTest : public SwtpmFixture {
 protected:
  AzVtpmTest() : SwtpmFixture(kAzureVtpmAkHandle) {}
  void SetUp() override {
    SwtpmFixture::SetUp();
    if (HasFatalFailure()) return;
    auto imds = HttpImdsClient::New(imds_.url());
    ASSERT_THAT(imds, IsOk());
    imds_client_ = std::move(imds).value();
  }
  std::shared_ptr<FakeParavisorTpm> Paravisor(HclReportType type) {
    std::string hw = type == HclReportType::kSnp ? FakeSnpReport(std::string(64, '\0'), std::string(32, '\0'))
                                                 : std::string(kTdReportSize, '\x01');
    auto p = std::make_shared<FakeParavisorTpm>(tpm_, type, hw);
    EXPECT_THAT(p->Boot(), IsOk());
    return p;
  }

  FakeImds imds_;
  std::shared_ptr<ImdsClient> imds_client_;
};

// The checks of the Trustee az-*-vtpm verifiers that need no vendor root (attesters.md §7).
void ExpectVerifies(const nlohmann::json& ev, std::string_view report_data, HclReportType type) {
  ASSERT_EQ(ev.at("version"), 2);
  auto hcl = Base64UrlDecode(
      std::string(ev.at("hcl_report").get<std::string>()).substr(0, ev.at("hcl_report").get<std::string>().find('=')));
  ASSERT_THAT(hcl, IsOk());
  auto parsed = ParseHclReport(*hcl);
  ASSERT_THAT(parsed, IsOk());
  auto ak = HclAkPublicSpki(parsed->var_data);
  ASSERT_THAT(ak, IsOk());
  std::string msg = absl::HexStringToBytes(ev["tpm_quote"]["message"].get<std::string>());
  std::string sig = absl::HexStringToBytes(ev["tpm_quote"]["signature"].get<std::string>());
  EXPECT_TRUE(crypto::VerifyRsaPkcs1Sha256(*ak, msg, sig).ok());  // (1)
  auto attest = ParseTpmQuoteAttest(msg);
  ASSERT_THAT(attest, IsOk());
  EXPECT_EQ(attest->extra_data, report_data);  // (2) unpadded
  std::string concat;
  ASSERT_EQ(ev["tpm_quote"]["pcrs"].size(), 24u);
  for (const auto& p : ev["tpm_quote"]["pcrs"]) concat += absl::HexStringToBytes(p.get<std::string>());
  EXPECT_EQ(crypto::Sha256(concat), attest->pcr_digest);                                    // (3)
  EXPECT_EQ(parsed->hardware_report_data.substr(0, 32), crypto::Sha256(parsed->var_data));  // (4)
  auto var = ParseJson(parsed->var_data, "var data");
  std::string user = absl::HexStringToBytes((*var)["user-data"].get<std::string>());
  EXPECT_EQ(user.substr(0, report_data.size()), report_data);  // (5)
  if (type == HclReportType::kTdx) {
    std::string q = ev.at("td_quote").get<std::string>();
    auto quote = Base64UrlDecode(q.substr(0, q.find('=')));
    ASSERT_THAT(quote, IsOk());
    EXPECT_EQ(quote->substr(kTdxQuoteV4ReportDataOffset, 32), crypto::Sha256(parsed->var_data));
  }
}

TEST_F(AzVtpmTest, TdxEvidenceShapeAndBindings) {
  AzVtpmAttester attester(HclReportType::kTdx, Paravisor(HclReportType::kTdx), imds_client_, absl::ZeroDuration());
  EXPECT_EQ(attester.tee(), "az-tdx-vtpm");
  for (size_t n : {1, 11, 12, 32, 48, 64}) {
    std::string rd(n, static_cast<char>(0x30 + n));
    auto ev = attester.GetEvidence(rd, CallContext{});
    ASSERT_THAT(ev, IsOk()) << n << ": " << ev.status();
    EXPECT_EQ(ev->size(), 4u);
    for (const char* k : {"version", "tpm_quote", "hcl_report", "td_quote"}) EXPECT_TRUE(ev->contains(k)) << k;
    EXPECT_EQ(ev->at("hcl_report").get<std::string>().size() % 4, 0u);  // base64url with padding
    ExpectVerifies(*ev, rd, HclReportType::kTdx);
  }
}

TEST_F(AzVtpmTest, SnpEvidenceShapeAndBindings) {
  AzVtpmAttester attester(HclReportType::kSnp, Paravisor(HclReportType::kSnp), imds_client_, absl::ZeroDuration());
  EXPECT_EQ(attester.tee(), "az-snp-vtpm");
  std::string rd(48, '\x5a');
  auto ev = attester.GetEvidence(rd, CallContext{});
  ASSERT_THAT(ev, IsOk());
  EXPECT_EQ(ev->size(), 4u);
  EXPECT_EQ(ev->at("vcek"), Base64UrlPaddedEncode("VCEK-DER"));
  ExpectVerifies(*ev, rd, HclReportType::kSnp);
}

TEST_F(AzVtpmTest, ReportDataSizesAndWrongHclType) {
  AzVtpmAttester attester(HclReportType::kTdx, Paravisor(HclReportType::kSnp), imds_client_, absl::ZeroDuration());
  EXPECT_THAT(attester.GetEvidence("", CallContext{}), StatusIs(absl::StatusCode::kInvalidArgument));
  auto big = attester.GetEvidence(std::string(65, 'x'), CallContext{});
  EXPECT_THAT(big, StatusIs(absl::StatusCode::kInvalidArgument, "65 bytes"));
  EXPECT_THAT(attester.GetEvidence("x", CallContext{}), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(AzVtpmTest, ImdsDownIsUnavailableNamingTheUrl) {
  auto dead = HttpImdsClient::New("http://127.0.0.1:1");
  ASSERT_THAT(dead, IsOk());
  AzVtpmAttester attester(HclReportType::kTdx, Paravisor(HclReportType::kTdx), std::move(dead).value(),
                          absl::ZeroDuration());
  auto ev = attester.GetEvidence("x", CallContext::WithTimeout(absl::Seconds(10)));
  EXPECT_THAT(ev, StatusIs(absl::StatusCode::kUnavailable)) << ev.status();
  EXPECT_THAT(std::string(ev.status().message()), ::testing::HasSubstr("127.0.0.1:1/acc/tdquote")) << ev.status();
}

// A caller that departs while the attester waits for the paravisor's HCL refresh is answered
// CANCELLED at once, not after the delay.
TEST_F(AzVtpmTest, DepartedCallerStopsTheHclRefreshWait) {
  AzVtpmAttester attester(HclReportType::kTdx, Paravisor(HclReportType::kTdx), imds_client_, absl::Seconds(60));
  auto departure = std::make_shared<Cancellation>();
  absl::StatusOr<nlohmann::json> ev = absl::UnknownError("not run");
  absl::Notification returned;
  std::thread caller([&] {
    ev = attester.GetEvidence("x", CallContext{absl::Now() + absl::Seconds(120), departure});
    returned.Notify();
  });
  departure->Cancel();
  EXPECT_TRUE(returned.WaitForNotificationWithTimeout(absl::Seconds(20)));
  caller.join();
  EXPECT_THAT(ev, StatusIs(absl::StatusCode::kCancelled, "departed"));
}

// A caller that departs while IMDS holds its request without answering (a socket that is
// listened on and never served) is answered CANCELLED at once, not at its deadline.
TEST_F(AzVtpmTest, DepartedCallerAbandonsASilentImds) {
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(listener, 8), 0);  // connections complete in the backlog; nobody reads them
  ASSERT_EQ(getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  auto silent = HttpImdsClient::New(StrCat("http://127.0.0.1:", ntohs(addr.sin_port)));
  ASSERT_THAT(silent, IsOk());
  AzVtpmAttester attester(HclReportType::kTdx, Paravisor(HclReportType::kTdx), std::move(silent).value(),
                          absl::ZeroDuration());
  auto departure = std::make_shared<Cancellation>();
  absl::StatusOr<nlohmann::json> ev = absl::UnknownError("not run");
  absl::Notification returned;
  std::thread caller([&] {
    ev = attester.GetEvidence("x", CallContext{absl::Now() + absl::Seconds(120), departure});
    returned.Notify();
  });
  // The request is under way once the connection sits in the backlog; cancelling earlier is
  // answered CANCELLED too, before the request.
  absl::SleepFor(absl::Milliseconds(200));
  departure->Cancel();
  EXPECT_TRUE(returned.WaitForNotificationWithTimeout(absl::Seconds(20)));
  caller.join();
  close(listener);
  EXPECT_THAT(ev, StatusIs(absl::StatusCode::kCancelled, "departed"));
}

TEST(HclReportTest, NegativeTable) {
  std::string good = BuildFakeHclReport(HclReportType::kSnp, std::string(1184, '\0'), std::string(256, '\x80'),
                                        std::string("\x01\x00\x01", 3), "ud");
  ASSERT_THAT(ParseHclReport(good), IsOk());
  EXPECT_LE(good.size(), 2048u);  // fits swtpm's NV index limit
  EXPECT_THAT(ParseHclReport(good.substr(0, 1000)), StatusIs(absl::StatusCode::kInvalidArgument));
  std::string bad_sig = good;
  bad_sig[0] = 'X';
  EXPECT_THAT(ParseHclReport(bad_sig), StatusIs(absl::StatusCode::kInvalidArgument));
  std::string bad_type = good;
  bad_type[1224] = 3;
  EXPECT_THAT(ParseHclReport(bad_type), StatusIs(absl::StatusCode::kInvalidArgument));
  std::string bad_hash = good;
  bad_hash[1228] = 2;
  EXPECT_THAT(ParseHclReport(bad_hash), StatusIs(absl::StatusCode::kInvalidArgument));
  std::string overrun = good;
  overrun[1233] = 0x7f;
  EXPECT_THAT(ParseHclReport(overrun), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(HclAkPublicSpki("{}"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(HclAkPublicSpki("not json"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ImdsClientTest, UrlValidationAndPem) {
  EXPECT_THAT(HttpImdsClient::New("https://169.254.169.254"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(HttpImdsClient::New("http://host:port"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_TRUE(HttpImdsClient::New("http://169.254.169.254").ok());
  EXPECT_EQ(*PemCertificateToDer(FakeImds::kVcekPem), "VCEK-DER");
  EXPECT_THAT(PemCertificateToDer("-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(PemCertificateToDer("nothing"), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace cdh::attestation
