// Negative tables for every parser of untrusted TEE/TPM bytes:
// truncation at every length and single-bit flips must give an error or a value, never a crash or
// an out-of-bounds read (run under ASan to check the latter).
#include "attestation/cc_eventlog.h"
#include "attestation/fake_hcl_report.h"
#include "attestation/fake_tee_reports.h"
#include "attestation/hcl_report.h"
#include "attestation/runtime_measurement.h"
#include "attestation/snp_report.h"
#include "attestation/tpm/tpm_structures.h"
#include "common/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace cdh::attestation {
namespace {

using ::cdh::testing::StatusIs;

using ::cdh::testing::IsOk;

std::string U16(uint16_t v) { return std::string{char(v >> 8), char(v)}; }
std::string U32(uint32_t v) { return U16(v >> 16) + U16(v & 0xffff); }

// A well-formed quote TPMS_ATTEST built by hand (big-endian).
std::string Attest() {
  std::string a = U32(kTpmGeneratedValue) + U16(kTpmStAttestQuote);
  a += U16(4) + "name";                                                  // qualifiedSigner
  a += U16(32) + std::string(32, 'n');                                   // extraData
  a += std::string(8, '\0') + U32(1) + U32(2) + std::string(1, '\x01');  // clockInfo
  a += std::string(8, '\x07');                                           // firmwareVersion
  a += U32(1) + U16(kTpmAlgSha256) + std::string(1, '\x03') + std::string("\xff\xff\xff", 3);
  a += U16(32) + std::string(32, 'd');  // pcrDigest
  return a;
}

TEST(TpmStructuresTest, WellFormedQuote) {
  auto q = ParseTpmQuoteAttest(Attest());
  ASSERT_THAT(q, IsOk());
  EXPECT_EQ(q->extra_data, std::string(32, 'n'));
  EXPECT_EQ(q->reset_count, 1u);
  EXPECT_TRUE(q->safe);
  EXPECT_TRUE(SelectsAllSha256Pcrs(q->pcr_select));
  EXPECT_EQ(q->pcr_digest, std::string(32, 'd'));
}

TEST(TpmStructuresTest, EveryTruncationAndTrailingByteRejected) {
  std::string a = Attest();
  for (size_t n = 0; n < a.size(); ++n)
    EXPECT_THAT(ParseTpmQuoteAttest(a.substr(0, n)), StatusIs(absl::StatusCode::kInvalidArgument)) << n;
  EXPECT_THAT(ParseTpmQuoteAttest(a + "x"), StatusIs(absl::StatusCode::kInvalidArgument));
  std::string sig = U16(kTpmAlgRsassa) + U16(kTpmAlgSha256) + U16(256) + std::string(256, 's');
  ASSERT_THAT(ParseTpmRsassaSha256Signature(sig), IsOk());
  for (size_t n = 0; n < sig.size(); ++n)
    EXPECT_THAT(ParseTpmRsassaSha256Signature(sig.substr(0, n)), StatusIs(absl::StatusCode::kInvalidArgument)) << n;
  std::string ecdsa = sig;
  ecdsa[1] = 0x18;
  EXPECT_THAT(ParseTpmRsassaSha256Signature(ecdsa), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(TpmStructuresTest, BitFlipsNeverCrash) {
  std::string a = Attest();
  int accepted = 0;
  for (size_t i = 0; i < a.size() * 8; ++i) {
    std::string f = a;
    f[i / 8] ^= static_cast<char>(1 << (i % 8));
    accepted += ParseTpmQuoteAttest(f).ok();
  }
  EXPECT_LT(accepted, static_cast<int>(a.size() * 8));  // magic/type/length flips are caught
}

TEST(ParsersTest, SnpHclCcelAaelSurviveTruncationAndFlips) {
  std::string snp = FakeSnpReport(std::string(64, 'r'), std::string(32, 'h'), 5);
  std::string table = FakeSnpCertTable({{"63da758d-e664-4564-adc5-f4b93be8accd", "VCEK"}});
  std::string hcl =
      BuildFakeHclReport(HclReportType::kSnp, snp, std::string(256, '\x80'), std::string("\x01\x00\x01", 3), "user");
  std::string ccel = CcEventlogHeader() + std::string(8, '\xff');
  std::string aael = AaelEntry(crypto::HashAlgorithm::kSha256, 23, "d o c");
  for (size_t n = 0; n < hcl.size(); n += 7) (void)ParseHclReport(hcl.substr(0, n));
  for (size_t n = 0; n < table.size(); ++n) (void)SnpCertTableToJson(table.substr(0, n));
  for (size_t n = 0; n < ccel.size(); ++n) (void)TrimCcel(ccel.substr(0, n));
  for (size_t n = 0; n < aael.size(); ++n)
    EXPECT_FALSE(ReplayAael(crypto::HashAlgorithm::kSha256, aael.substr(0, n)).ok() && n > 0);
  for (size_t i = 0; i < table.size() * 8; ++i) {
    std::string f = table;
    f[i / 8] ^= static_cast<char>(1 << (i % 8));
    (void)SnpCertTableToJson(f);
  }
  for (size_t i = 0; i < 1236 * 8; i += 3) {
    std::string f = hcl;
    f[i / 8] ^= static_cast<char>(1 << (i % 8));
    (void)ParseHclReport(f);
  }
  for (size_t i = 0; i < snp.size() * 8; i += 5) {
    std::string f = snp;
    f[i / 8] ^= static_cast<char>(1 << (i % 8));
    (void)SnpReportToJson(f);
  }
  EXPECT_THAT(SnpReportToJson(snp.substr(0, 100)), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace cdh::attestation
