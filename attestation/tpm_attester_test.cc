// The `tpm` attester and EsysTpm against a real swtpm started by the test (unix sockets in a temp
// dir; the AK is provisioned by the test through ESAPI).
#include "attestation/tpm_attester.h"

#include "absl/strings/escaping.h"
#include "attestation/tee_platform.h"
#include "attestation/tpm/esys_tpm.h"
#include "attestation/tpm/swtpm_fixture.h"
#include "attestation/tpm/tpm_structures.h"
#include "common/base64.h"
#include "common/testing/status_matchers.h"
#include "crypto/hash.h"
#include "crypto/rsa_pkcs1.h"
#include "gtest/gtest.h"

namespace cdh::attestation {
namespace {

using ::cdh::testing::IsOk;
using ::cdh::testing::StatusIs;

using absl::StatusCode;

using TpmTest = SwtpmFixture;

// Report data of every length a caller may pass, checked the way the Trustee verifier does.
TEST_F(TpmTest, EvidenceVerifiesForEveryReportDataLength) {
  TpmAttester attester(tpm_, kDefaultTpmAkHandle);
  EXPECT_EQ(attester.tee(), "tpm");
  for (size_t n : {0, 11, 12, 32, 48, 64}) {
    std::string rd;
    for (size_t i = 0; i < n; ++i) rd.push_back(static_cast<char>(i + 1));
    auto ev = attester.GetEvidence(rd, CallContext{});
    ASSERT_THAT(ev, IsOk()) << n << ": " << ev.status();
    ASSERT_EQ(ev->size(), 2u);
    const auto& q = ev->at("tpm_quote");
    ASSERT_EQ(q.size(), 3u);
    auto sig = Base64StdDecode(q.at("signature").get<std::string>());
    auto msg = Base64StdDecode(q.at("message").get<std::string>());
    auto ak = Base64StdDecode(ev->at("ak_public").get<std::string>());
    ASSERT_TRUE(sig.ok() && msg.ok() && ak.ok());
    EXPECT_EQ(sig->substr(0, 4), std::string("\x00\x14\x00\x0b", 4));  // TPMT_SIGNATURE RSASSA/SHA-256
    auto raw_sig = ParseTpmRsassaSha256Signature(*sig);
    ASSERT_THAT(raw_sig, IsOk());
    EXPECT_TRUE(crypto::VerifyRsaPkcs1Sha256(*ak, *msg, *raw_sig).ok());
    auto attest = ParseTpmQuoteAttest(*msg);
    ASSERT_THAT(attest, IsOk());
    std::string expected = rd.substr(0, 32);
    expected.resize(32, '\0');
    EXPECT_EQ(attest->extra_data, expected) << n;
    EXPECT_TRUE(SelectsAllSha256Pcrs(attest->pcr_select));
    ASSERT_EQ(q.at("pcrs").size(), 24u);
    std::string concat;
    for (const auto& p : q.at("pcrs")) {
      std::string hex = p.get<std::string>();
      ASSERT_EQ(hex.size(), 64u);
      concat += absl::HexStringToBytes(hex);
    }
    EXPECT_EQ(crypto::Sha256(concat), attest->pcr_digest);
  }
}

TEST_F(TpmTest, OversizeReportDataIsAClearError) {
  TpmAttester attester(tpm_, kDefaultTpmAkHandle);
  auto ev = attester.GetEvidence(std::string(65, 'x'), CallContext{});
  EXPECT_THAT(ev, StatusIs(StatusCode::kInvalidArgument, "65 bytes")) << ev.status();
  // Straight to the TPM: TPM2B_DATA cannot hold it; checked before the TPM sees it.
  auto q = tpm_->Quote(kDefaultTpmAkHandle, std::string(65, 'x'));
  EXPECT_THAT(q, StatusIs(StatusCode::kInvalidArgument, "qualifying data"));
}

TEST_F(TpmTest, MissingAkIsNotFoundNamingTheHandle) {
  TpmAttester attester(tpm_, 0x81010077);
  auto ev = attester.GetEvidence("x", CallContext{});
  EXPECT_THAT(ev, StatusIs(StatusCode::kNotFound)) << ev.status();
  EXPECT_THAT(std::string(ev.status().message()), ::testing::HasSubstr("0x81010077")) << ev.status();
}

TEST_F(TpmTest, PcrExtendFollowsTheVerifierRule) {
  std::string d = crypto::Sha256("init data");
  ASSERT_TRUE(tpm_->ExtendPcr(8, d).ok());
  auto pcrs = tpm_->ReadPcrs();
  ASSERT_THAT(pcrs, IsOk());
  EXPECT_EQ((*pcrs)[8], crypto::Sha256(std::string(32, '\0') + d));
  EXPECT_THAT(tpm_->ExtendPcr(24, d), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(tpm_->ExtendPcr(-1, d), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(tpm_->ExtendPcr(8, d.substr(0, 31)), StatusIs(StatusCode::kInvalidArgument));
  absl::Status pcr17 = tpm_->ExtendPcr(17, d);  // not extendable at locality 0 (§4.6)
  EXPECT_THAT(pcr17, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(std::string(pcr17.message()), ::testing::HasSubstr("locality")) << pcr17;
}

TEST_F(TpmTest, NvWriteDefiningAndChunkedRead) {
  std::string big(1900, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7);
  ASSERT_TRUE(tpm_->NvWriteDefining(0x01400001, big).ok());
  EXPECT_EQ(*tpm_->NvRead(0x01400001), big);
  ASSERT_TRUE(tpm_->NvWriteDefining(0x01400002, std::string(48, 'a')).ok());
  ASSERT_TRUE(tpm_->NvWriteDefining(0x01400002, std::string(32, 'b')).ok());  // redefined with the new size
  EXPECT_EQ(*tpm_->NvRead(0x01400002), std::string(32, 'b'));
  EXPECT_THAT(tpm_->NvRead(0x01400009), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(tpm_->NvUndefine(0x01400002), IsOk());
  EXPECT_THAT(tpm_->NvRead(0x01400002), StatusIs(StatusCode::kNotFound));
}

// The TPM service restarts under a running attester (swtpm killed and started again on the
// same state, without the TPM2_Startup a platform would send): every command then fails with
// TPM_RC_INITIALIZE on the old ESYS context. The attester's next call reconnects, starts the TPM
// and succeeds, and so do later ones.
TEST_F(TpmTest, AttesterRecoversAfterTheTpmRestarts) {
  tpm_.reset();  // the fixture's own connection is not needed here
  TeePlatform platform;
  platform.paths.tpm_tcti = rig_->tcti();
  auto tpm = platform.OpenTpm();
  ASSERT_THAT(tpm, IsOk());
  TpmAttester attester(*tpm, kDefaultTpmAkHandle);
  ASSERT_THAT(attester.GetEvidence("before", CallContext{}), IsOk());
  ASSERT_THAT(rig_->Restart(/*startup_clear=*/false), IsOk());
  EXPECT_THAT(attester.GetEvidence("after", CallContext{}), IsOk());
  EXPECT_THAT(attester.GetEvidence("later", CallContext{}), IsOk());
  ASSERT_THAT(rig_->Restart(/*startup_clear=*/false), IsOk());
  // An extend is not retried on the new connection (it may have reached the TPM): the first
  // one after a restart may fail with UNAVAILABLE, the next one works.
  std::string digest(32, '\x5a');
  absl::Status extend = attester.ExtendRuntimeMeasurement(15, digest);
  if (!extend.ok()) {
    EXPECT_THAT(extend, StatusIs(StatusCode::kUnavailable));
    EXPECT_THAT(attester.ExtendRuntimeMeasurement(15, digest), IsOk());
  }
}

// While the TPM is down no new connection can be opened: UNAVAILABLE (retryable), and the
// calls work again once it is back.
TEST_F(TpmTest, CallsFailWhileTheTpmIsDownThenRecover) {
  tpm_.reset();
  TeePlatform platform;
  platform.paths.tpm_tcti = rig_->tcti();
  auto tpm = platform.OpenTpm();
  ASSERT_THAT(tpm, IsOk());
  rig_->Stop();
  EXPECT_THAT((*tpm)->ReadPcrs(), StatusIs(StatusCode::kUnavailable));
  ASSERT_THAT(rig_->Restart(/*startup_clear=*/false), IsOk());
  EXPECT_THAT((*tpm)->ReadPcrs(), IsOk());
}

// A Tpm that answers a quote for other qualifying data than it was asked for (a broken TPM or
// transport): the attester refuses to send it.
class NonceSwappingTpm : public Tpm {
 public:
  explicit NonceSwappingTpm(std::shared_ptr<Tpm> real) : real_(std::move(real)) {}
  absl::StatusOr<TpmQuote> Quote(uint32_t ak, std::string_view) override { return real_->Quote(ak, "other nonce"); }
  absl::StatusOr<std::vector<std::string>> ReadPcrs() override { return real_->ReadPcrs(); }
  absl::Status ExtendPcr(int i, std::string_view d) override { return real_->ExtendPcr(i, d); }
  absl::StatusOr<TpmRsaPublic> ReadRsaPublic(uint32_t h) override { return real_->ReadRsaPublic(h); }
  absl::StatusOr<std::string> NvRead(uint32_t i) override { return real_->NvRead(i); }
  absl::Status NvWriteDefining(uint32_t i, std::string_view d) override { return real_->NvWriteDefining(i, d); }

 private:
  std::shared_ptr<Tpm> real_;
};

TEST_F(TpmTest, QuoteForAnotherNonceIsNotSent) {
  TpmAttester attester(std::make_shared<NonceSwappingTpm>(tpm_), kDefaultTpmAkHandle);
  auto ev = attester.GetEvidence("the nonce we asked for", CallContext{});
  EXPECT_THAT(ev, StatusIs(StatusCode::kFailedPrecondition, "extraData")) << ev.status();
}

TEST(EsysTpmTest, UnreachableTctiIsUnavailable) {
  auto tpm = EsysTpm::Open("swtpm:path=/nonexistent/tpm.sock");
  EXPECT_THAT(tpm, StatusIs(StatusCode::kUnavailable, "/nonexistent/tpm.sock"));
}

}  // namespace
}  // namespace cdh::attestation
