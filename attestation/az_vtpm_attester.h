// AzVtpmAttester: the `az-tdx-vtpm` and `az-snp-vtpm` TEEs (attesters.md §2.4, §2.5, §4.1-4.2).
// One request:
//   1. owner-authorised write of the report data, unpadded, to NV 0x01400002 (defined with that
//      size when missing or sized differently); wait `hcl_refresh_delay` (upstream: 3 s) for the
//      paravisor to regenerate the HCL report; read NV 0x01400001;
//   2. az-tdx-vtpm: TD quote for the HCL's TDREPORT from IMDS; az-snp-vtpm: VCEK DER from IMDS;
//   3. TPM2_Quote with the vTPM AK (0x81000003) over sha256 PCRs 0-23, report data unpadded as
//      qualifying data; PCR read checked against the quote's pcrDigest.
// Steps 1 and 3 share the NV indices and must not interleave between requests: requests are
// serialised by a mutex.
//
// Evidence (EVIDENCE_VERSION 2):
//   {"version": 2,
//    "tpm_quote": {"signature": "<hex raw RSA signature>", "message": "<hex TPMS_ATTEST>",
//                  "pcrs": ["<hex PCR0>", ..., "<hex PCR23>"]},
//    "hcl_report": "<base64url with padding of the NV 0x01400001 contents>",
//    "td_quote" | "vcek": "<base64url with padding>"}
//
// Report data: 1..64 bytes (the Azure vTPM itself refuses more than 50, guest-components#909;
// that refusal is reported as INVALID_ARGUMENT naming the size). Thread-safe; neither copyable
// nor movable.
#ifndef CDH_ATTESTATION_AZ_VTPM_ATTESTER_H_
#define CDH_ATTESTATION_AZ_VTPM_ATTESTER_H_

#include <memory>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "attestation/attester.h"
#include "attestation/hcl_report.h"
#include "attestation/imds_client.h"
#include "attestation/tpm/tpm.h"

namespace cdh::attestation {

class AzVtpmAttester : public Attester {
 public:
  static constexpr std::string_view kTdxTeeName = "az-tdx-vtpm";
  static constexpr std::string_view kSnpTeeName = "az-snp-vtpm";
  static constexpr int kEvidenceVersion = 2;
  static constexpr size_t kMaxReportData = 64;

  AzVtpmAttester(HclReportType type, std::shared_ptr<Tpm> tpm, std::shared_ptr<ImdsClient> imds,
                 absl::Duration hcl_refresh_delay = absl::Seconds(3));
  AzVtpmAttester(const AzVtpmAttester&) = delete;
  AzVtpmAttester& operator=(const AzVtpmAttester&) = delete;

  std::string_view tee() const override { return type_ == HclReportType::kTdx ? kTdxTeeName : kSnpTeeName; }
  // Codes: INVALID_ARGUMENT (report data empty or > 64 bytes, or refused by the vTPM; an HCL
  // report that does not parse), FAILED_PRECONDITION (the HCL report is of the other TEE type),
  // the Tpm's and ImdsClient's codes otherwise.
  absl::StatusOr<nlohmann::json> GetEvidence(std::string_view report_data, const CallContext& ctx) override;

  // PCR 8 binding and sha256 PCR runtime measurement, as the `tpm` attester (tpm_attester.h).
  // (Upstream az-tdx-vtpm lacks the PCR read; this one has it.)
  absl::Status BindInitData(std::string_view digest, const CallContext& ctx) override;
  std::optional<int> RuntimeMeasurementDigestSize() const override { return static_cast<int>(kTpmSha256Size); }
  std::string_view RuntimeMeasurementHash() const override { return "sha256"; }
  absl::Status ExtendRuntimeMeasurement(uint64_t pcr_index, std::string_view digest) override;
  absl::StatusOr<std::string> ReadRuntimeMeasurement(uint64_t pcr_index) override;

 private:
  const HclReportType type_;
  std::shared_ptr<Tpm> tpm_;
  std::shared_ptr<ImdsClient> imds_;
  const absl::Duration delay_;
  absl::Mutex mu_;  // serialises the report-data write, the paravisor's refresh and the read
};

// Standard base64url alphabet with '=' padding (serde_with Base64<UrlSafe>, attesters.md §2 legend).
std::string Base64UrlPaddedEncode(std::string_view bytes);

}  // namespace cdh::attestation

#endif  // CDH_ATTESTATION_AZ_VTPM_ATTESTER_H_
