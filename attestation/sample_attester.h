// SampleAttester: the `sample` TEE of attesters.md §2.1 and kbs-protocol.md §7. A stand-in for a
// TEE, for development and tests only: its evidence is not signed by any hardware, so a broker
// that accepts it trusts whoever asks. It is created only when the configuration names it
// ([attestation] tee = "sample"); it is never a fallback.
//
// Evidence: {"svn":"1","report_data":"<standard base64 of the report data, as given>"}.
// Thread-safe (stateless); neither copyable nor movable.
#ifndef CDH_ATTESTATION_SAMPLE_ATTESTER_H_
#define CDH_ATTESTATION_SAMPLE_ATTESTER_H_

#include "attestation/attester.h"

namespace cdh::attestation {

class SampleAttester : public Attester {
 public:
  static constexpr std::string_view kTeeName = "sample";
  // Largest report data accepted, in bytes (the size of a SHA-512 digest and of TDX REPORTDATA).
  static constexpr size_t kMaxReportData = 64;

  SampleAttester() = default;
  SampleAttester(const SampleAttester&) = delete;
  SampleAttester& operator=(const SampleAttester&) = delete;

  std::string_view tee() const override { return kTeeName; }
  // INVALID_ARGUMENT when `report_data` is empty or longer than kMaxReportData.
  absl::StatusOr<nlohmann::json> GetEvidence(std::string_view report_data, const CallContext& ctx) override;
};

}  // namespace cdh::attestation

#endif  // CDH_ATTESTATION_SAMPLE_ATTESTER_H_
