// Development verifiers against evidence produced by the real attesters on a real swtpm (the
// Azure paravisor and IMDS are fakes: they cannot run here). Negative table: tampered quote and
// signature, stale nonce, wrong PCR list, foreign AK, init data mismatch, malformed members.
#include "attestation/verifier/evidence_verifier.h"

#include "attestation/az_vtpm_attester.h"
#include "attestation/fake_imds.h"
#include "attestation/fake_paravisor.h"
#include "attestation/fake_tee_reports.h"
#include "attestation/tpm/esys_tpm.h"
#include "attestation/tpm/swtpm_fixture.h"
#include "attestation/tpm_attester.h"
#include "common/base64.h"
#include "common/testing/status_matchers.h"
#include "crypto/hash.h"
#include "gtest/gtest.h"

namespace cdh::attestation {
namespace {

using ::cdh::testing::IsOk;
using ::cdh::testing::StatusIs;

using absl::StatusCode;

std::string FlipByte(const std::string& b64, size_t at) {
  std::string raw = *Base64StdDecode(b64);
  raw[at % raw.size()] ^= 0x01;
  return Base64StdEncode(raw);
}

class VerifierTest : public SwtpmFixture {
 protected:
  const std::string nonce_ = crypto::Hash(crypto::HashAlgorithm::kSha384, "runtime data");
};

TEST_F(VerifierTest, TpmAcceptsGenuineEvidenceAndRejectsTampering) {
  TpmAttester attester(tpm_, kDefaultTpmAkHandle);
  auto ev = attester.GetEvidence(nonce_, CallContext{});
  ASSERT_THAT(ev, IsOk());
  auto verifier = NewTpmVerifier();
  auto claims = verifier->Verify(*ev, nonce_, std::nullopt);
  ASSERT_THAT(claims, IsOk());
  EXPECT_EQ((*claims)["report_data"], crypto::HexEncode(nonce_.substr(0, 32)));
  EXPECT_EQ((*claims)["pcr08"], std::string(64, '0'));
  EXPECT_EQ((*claims)["ak_public"], (*ev)["ak_public"]);

  auto expect_denied = [&](nlohmann::json bad, std::string_view why, StatusCode code = StatusCode::kUnauthenticated) {
    auto r = verifier->Verify(bad, nonce_, std::nullopt);
    EXPECT_THAT(r, StatusIs(code)) << why;
  };
  // Stale nonce: evidence for another session's report data.
  EXPECT_THAT(verifier->Verify(*ev, crypto::Hash(crypto::HashAlgorithm::kSha384, "old"), std::nullopt),
              StatusIs(StatusCode::kUnauthenticated));
  nlohmann::json t = *ev;
  t["tpm_quote"]["message"] = FlipByte(t["tpm_quote"]["message"], 40);
  expect_denied(t, "tampered message");
  t = *ev;
  t["tpm_quote"]["signature"] = FlipByte(t["tpm_quote"]["signature"], 100);
  expect_denied(t, "tampered signature");
  t = *ev;
  t["tpm_quote"]["pcrs"][3] = std::string(64, 'a');
  expect_denied(t, "wrong PCR list");
  t = *ev;
  t["tpm_quote"]["pcrs"].erase(23);
  expect_denied(t, "23 PCRs", StatusCode::kInvalidArgument);
  t = *ev;
  t["tpm_quote"]["pcrs"][0] = "00";
  expect_denied(t, "short PCR", StatusCode::kInvalidArgument);
  t = *ev;
  t.erase("ak_public");
  expect_denied(t, "no AK", StatusCode::kInvalidArgument);
  t = *ev;
  t["tpm_quote"]["message"] = "%%%";
  expect_denied(t, "not base64", StatusCode::kInvalidArgument);
  expect_denied(nlohmann::json("string"), "not an object", StatusCode::kInvalidArgument);

  // A different AK that signed nothing here.
  ASSERT_TRUE(tpm_->ProvisionRsaAk(0x81010003, "another key").ok());
  TpmAttester other(tpm_, 0x81010003);
  auto other_ev = other.GetEvidence(nonce_, CallContext{});
  ASSERT_THAT(other_ev, IsOk());
  t = *ev;
  t["ak_public"] = (*other_ev)["ak_public"];
  expect_denied(t, "foreign AK");
  // AK allow-list.
  auto pinned = NewTpmVerifier({*Base64StdDecode((*ev)["ak_public"].get<std::string>())});
  EXPECT_TRUE(pinned->Verify(*ev, nonce_, std::nullopt).ok());
  EXPECT_THAT(pinned->Verify(*other_ev, nonce_, std::nullopt), StatusIs(StatusCode::kUnauthenticated));
}

TEST_F(VerifierTest, TpmInitDataBinding) {
  TpmAttester attester(tpm_, kDefaultTpmAkHandle);
  std::string digest = crypto::Sha256("init data toml");
  ASSERT_TRUE(attester.BindInitData(digest, CallContext{}).ok());
  auto ev = attester.GetEvidence(nonce_, CallContext{});
  ASSERT_THAT(ev, IsOk());
  auto verifier = NewTpmVerifier();
  auto claims = verifier->Verify(*ev, nonce_, digest);
  ASSERT_THAT(claims, IsOk());
  EXPECT_EQ((*claims)["init_data"], crypto::HexEncode(crypto::Sha256(std::string(32, '\0') + digest)));
  EXPECT_THAT(verifier->Verify(*ev, nonce_, crypto::Sha256("other")), StatusIs(StatusCode::kUnauthenticated));
}

TEST_F(VerifierTest, AzureVtpmBothKinds) {
  ASSERT_THAT(tpm_->ProvisionRsaAk(kAzureVtpmAkHandle), IsOk());
  FakeImds imds;
  std::shared_ptr<ImdsClient> client = std::move(HttpImdsClient::New(imds.url())).value();
  for (HclReportType type : {HclReportType::kTdx, HclReportType::kSnp}) {
    std::string hw = type == HclReportType::kSnp ? FakeSnpReport(std::string(64, '\0'), std::string(32, '\0'))
                                                 : std::string(kTdReportSize, '\x01');
    auto paravisor = std::make_shared<FakeParavisorTpm>(tpm_, type, hw);
    ASSERT_THAT(paravisor->Boot(), IsOk());
    AzVtpmAttester attester(type, paravisor, client, absl::ZeroDuration());
    auto ev = attester.GetEvidence(nonce_, CallContext{});
    ASSERT_THAT(ev, IsOk());
    auto verifier = type == HclReportType::kTdx ? NewAzTdxVtpmVerifier() : NewAzSnpVtpmVerifier();
    auto claims = verifier->Verify(*ev, nonce_, std::nullopt);
    ASSERT_THAT(claims, IsOk()) << attester.tee() << ": " << claims.status();
    EXPECT_EQ((*claims)["report_data"], crypto::HexEncode(nonce_));  // unpadded
    EXPECT_THAT(verifier->Verify(*ev, crypto::Hash(crypto::HashAlgorithm::kSha384, "old"), std::nullopt),
                StatusIs(StatusCode::kUnauthenticated));
    nlohmann::json t = *ev;
    std::string msg = t["tpm_quote"]["message"];
    msg[20] = msg[20] == '0' ? '1' : '0';
    t["tpm_quote"]["message"] = msg;
    EXPECT_THAT(verifier->Verify(t, nonce_, std::nullopt), StatusIs(StatusCode::kUnauthenticated));
    t = *ev;
    t["tpm_quote"]["pcrs"][5] = std::string(64, 'b');
    EXPECT_THAT(verifier->Verify(t, nonce_, std::nullopt), StatusIs(StatusCode::kUnauthenticated));
    // An HCL report whose var data (user-data, AK) no longer matches its hardware report.
    t = *ev;
    std::string hcl_b64 = t["hcl_report"];
    auto hcl = Base64UrlDecode(hcl_b64.substr(0, hcl_b64.find('=')));
    ASSERT_THAT(hcl, IsOk());
    std::string tampered = *hcl;
    size_t pos = tampered.find("CDH-TEST-VM");
    ASSERT_NE(pos, std::string::npos);
    tampered[pos] = 'X';
    t["hcl_report"] = Base64UrlPaddedEncode(tampered);
    EXPECT_THAT(verifier->Verify(t, nonce_, std::nullopt), StatusIs(StatusCode::kUnauthenticated));
    // The other kind's verifier refuses it.
    auto wrong = type == HclReportType::kTdx ? NewAzSnpVtpmVerifier() : NewAzTdxVtpmVerifier();
    EXPECT_THAT(wrong->Verify(*ev, nonce_, std::nullopt), StatusIs(absl::StatusCode::kInvalidArgument));
  }
  EXPECT_EQ(DevelopmentVerifiers().size(), 3u);
}

}  // namespace
}  // namespace cdh::attestation
