// TdxAttester: the `tdx` TEE (attesters.md §2.2). Quotes come from configfs-tsm only (provider
// `tdx_guest`, §3); upstream removed the /dev/tdx_guest quote path, and so does this: on a guest
// with only /dev/tdx_guest, GetEvidence fails with UNAVAILABLE naming the configfs-tsm root
// (detection still reports tdx, as upstream).
//
// Evidence: {"cc_eventlog": "<std base64>" | null, "quote": "<std base64 of the raw TD quote>"}
// where cc_eventlog = trimmed CCEL table + runtime event log + FF×8 (cc_eventlog.h).
//
// Thread-safe (each request uses its own configfs-tsm entry); neither copyable nor movable.
#ifndef CDH_ATTESTATION_TDX_ATTESTER_H_
#define CDH_ATTESTATION_TDX_ATTESTER_H_

#include <memory>
#include <string>

#include "attestation/attester.h"
#include "attestation/tdx_measurements.h"
#include "attestation/tsm_report.h"

namespace cdh::attestation {

struct TdxOptions {
  // The CCEL ACPI table (firmware event log); absent on some hypervisors.
  std::string ccel_path = "/sys/firmware/acpi/tables/data/CCEL";
  // The runtime-measurement event log (attesters.md §6; upstream AAEL_PATH default).
  std::string runtime_log_path = "/run/attestation-agent/eventlog";
};

class TdxAttester : public Attester {
 public:
  static constexpr std::string_view kTeeName = "tdx";
  static constexpr size_t kReportDataSize = 64;         // TDX REPORTDATA
  static constexpr size_t kMaxEventlogSize = 16 << 20;  // bytes; the CCEL is 64 KiB..1 MiB

  // `measurements` may be null (no tdx_guest sysfs): init-data checks and runtime measurement
  // then fail with UNAVAILABLE.
  TdxAttester(std::shared_ptr<TsmFs> tsm, TdxOptions options, std::shared_ptr<TdxMeasurements> measurements = nullptr);
  TdxAttester(const TdxAttester&) = delete;
  TdxAttester& operator=(const TdxAttester&) = delete;

  std::string_view tee() const override { return kTeeName; }
  // `report_data`: 0..64 bytes, zero-padded to 64. INVALID_ARGUMENT when longer;
  // FAILED_PRECONDITION when the quote is not what we asked for (CheckTdxQuote, tdx_quote.h:
  // size, version, TEE type, body type, REPORTDATA; never sent); otherwise the codes of
  // TsmReporter::GetReport, and FAILED_PRECONDITION for a malformed CCEL table.
  absl::StatusOr<nlohmann::json> GetEvidence(std::string_view report_data, const CallContext& ctx) override;

  // MRCONFIGID == digest zero-padded/truncated to 48, else PERMISSION_DENIED.
  absl::Status BindInitData(std::string_view digest, const CallContext& ctx) override;
  // RTMRs through sysfs: 48-byte digests exactly; PCR index 0..23 mapped as upstream's
  // pcr_to_ccmr (PCR 1,7 → MR 1; 2-6 → 2; 8-15 → 3; others → 4), RTMR = MR - 1.
  std::optional<int> RuntimeMeasurementDigestSize() const override;
  std::string_view RuntimeMeasurementHash() const override { return "sha384"; }
  uint32_t MrIndex(uint64_t pcr_index) const override;
  absl::Status ExtendRuntimeMeasurement(uint64_t pcr_index, std::string_view digest) override;
  absl::StatusOr<std::string> ReadRuntimeMeasurement(uint64_t pcr_index) override;

 private:
  absl::Status CheckMeasurements(uint64_t pcr_index) const;
  std::shared_ptr<TdxMeasurements> measurements_;
  TsmReporter reporter_;
  TdxOptions options_;
};

}  // namespace cdh::attestation

#endif  // CDH_ATTESTATION_TDX_ATTESTER_H_
