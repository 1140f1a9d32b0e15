// TpmAttester: the generic `tpm` TEE (attesters.md §2.6, §4.3). A TPM quote is not bound to a
// hardware TEE: the verifier trusts the AK only through its policy (§7).
//
// Report data: 0..64 bytes are accepted and resized to 32 bytes
// (TPM_REPORT_DATA_SIZE: longer input such as a 48-byte SHA-384 digest is truncated, shorter is
// zero-padded), exactly what the Trustee verifier compares with `extraData`; more than 64 bytes
// is INVALID_ARGUMENT with a message saying so, never a bare TPM code.
//
// Evidence:
//   {"tpm_quote": {"signature": "<std b64 of marshalled TPMT_SIGNATURE>",
//                  "message":   "<std b64 of marshalled TPMS_ATTEST>",
//                  "pcrs":      ["<hex sha256 PCR0>", ..., "<hex PCR23>"]},
//    "ak_public": "<std b64 of the AK's DER SubjectPublicKeyInfo>"}
//
// Thread-safe (the Tpm serialises its calls); neither copyable nor movable.
#ifndef CDH_ATTESTATION_TPM_ATTESTER_H_
#define CDH_ATTESTATION_TPM_ATTESTER_H_

#include <memory>

#include "attestation/attester.h"
#include "attestation/tpm/tpm.h"

namespace cdh::attestation {

inline constexpr uint32_t kDefaultTpmAkHandle = 0x81010002;

class TpmAttester : public Attester {
 public:
  static constexpr std::string_view kTeeName = "tpm";
  static constexpr size_t kReportDataSize = 32;      // what goes into the quote
  static constexpr size_t kMaxReportDataInput = 64;  // what the caller may pass

  TpmAttester(std::shared_ptr<Tpm> tpm, uint32_t ak_handle);
  TpmAttester(const TpmAttester&) = delete;
  TpmAttester& operator=(const TpmAttester&) = delete;

  std::string_view tee() const override { return kTeeName; }
  // Codes: INVALID_ARGUMENT (report data > 64 bytes), NOT_FOUND (no AK at the handle), the Tpm's
  // codes otherwise; UNAVAILABLE when the PCRs kept changing between quote and PCR read.
  absl::StatusOr<nlohmann::json> GetEvidence(std::string_view report_data, const CallContext& ctx) override;

  absl::Status BindInitData(std::string_view digest, const CallContext& ctx) override;
  // sha256 PCR extend/read; PCR index 0..23, 32-byte digests.
  std::optional<int> RuntimeMeasurementDigestSize() const override { return static_cast<int>(kTpmSha256Size); }
  std::string_view RuntimeMeasurementHash() const override { return "sha256"; }
  absl::Status ExtendRuntimeMeasurement(uint64_t pcr_index, std::string_view digest) override;
  absl::StatusOr<std::string> ReadRuntimeMeasurement(uint64_t pcr_index) override;

 private:
  std::shared_ptr<Tpm> tpm_;
  uint32_t ak_handle_;
};

}  // namespace cdh::attestation

#endif  // CDH_ATTESTATION_TPM_ATTESTER_H_
