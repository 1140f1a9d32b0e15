// SnpAttester: the `snp` TEE (attesters.md §2.3). Report source: configfs-tsm with provider
// `sev_guest` (certificate table from `auxblob`) when the configfs-tsm root exists, else the
// /dev/sev-guest SNP_GET_EXT_REPORT ioctl at VMPL 0 (upstream's only path at the pinned commit).
// Neither can run on this build machine: tests use FakeTsmFs and a fake ioctl.
//
// Evidence: {"attestation_report": {...SEV crate serde form...}, "cert_chain": [...] | null}
// (snp_report.h).
//
// Thread-safe; neither copyable nor movable.
#ifndef CDH_ATTESTATION_SNP_ATTESTER_H_
#define CDH_ATTESTATION_SNP_ATTESTER_H_

#include <memory>

#include "attestation/attester.h"
#include "attestation/sev_guest_device.h"
#include "attestation/tsm_report.h"

namespace cdh::attestation {

class SnpAttester : public Attester {
 public:
  static constexpr std::string_view kTeeName = "snp";
  static constexpr size_t kReportDataSize = 64;

  // Either source may be null (not present on this guest); at least one must be given.
  SnpAttester(std::shared_ptr<TsmFs> tsm, std::unique_ptr<SevGuestDevice> device);
  SnpAttester(const SnpAttester&) = delete;
  SnpAttester& operator=(const SnpAttester&) = delete;

  std::string_view tee() const override { return kTeeName; }
  // `report_data` 0..64 bytes, zero-padded to 64. INVALID_ARGUMENT when longer;
  // FAILED_PRECONDITION when the report is not what we asked for (CheckSnpReport: size, version,
  // REPORT_DATA) or the report or certificate table does not parse (never sent); otherwise the
  // codes of the report source.
  absl::StatusOr<nlohmann::json> GetEvidence(std::string_view report_data, const CallContext& ctx) override;
  // HOST_DATA of a fresh report == digest zero-padded/truncated to 32, else PERMISSION_DENIED.
  absl::Status BindInitData(std::string_view digest, const CallContext& ctx) override;

 private:
  struct RawReport {
    std::string report;
    std::optional<std::string> certs;
  };
  absl::StatusOr<RawReport> FetchReport(const std::string& padded_report_data, const CallContext& ctx);
  std::unique_ptr<TsmReporter> reporter_;
  std::unique_ptr<SevGuestDevice> device_;
};

}  // namespace cdh::attestation

#endif  // CDH_ATTESTATION_SNP_ATTESTER_H_
