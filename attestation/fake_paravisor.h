// FakeParavisorTpm: a Tpm decorator that plays the Azure paravisor on top of a real TPM (swtpm):
// whenever report data is written to NV 0x01400002 it rebuilds a compact HCL report
// (BuildFakeHclReport) carrying that user data and the AK at 0x81000003, and stores it in NV
// 0x01400001 (attesters.md §4.5). It stands in for the Azure paravisor, which cannot run here.
// Thread-safe as the wrapped Tpm; neither copyable nor movable.
#ifndef CDH_ATTESTATION_FAKE_PARAVISOR_H_
#define CDH_ATTESTATION_FAKE_PARAVISOR_H_

#include <memory>

#include "attestation/fake_hcl_report.h"
#include "attestation/hcl_report.h"
#include "attestation/tpm/tpm.h"

namespace cdh::attestation {

class FakeParavisorTpm : public Tpm {
 public:
  // `hardware_report`: the SNP report or TDREPORT the paravisor would fetch (its report_data is
  // overwritten with SHA-256(var data)).
  FakeParavisorTpm(std::shared_ptr<Tpm> tpm, HclReportType type, std::string hardware_report)
      : tpm_(std::move(tpm)), type_(type), hardware_report_(std::move(hardware_report)) {}
  FakeParavisorTpm(const FakeParavisorTpm&) = delete;
  FakeParavisorTpm& operator=(const FakeParavisorTpm&) = delete;

  // Writes the initial HCL report (user data all zero).
  absl::Status Boot() { return Refresh(std::string(1, '\0')); }

  absl::StatusOr<TpmQuote> Quote(uint32_t ak, std::string_view qd) override { return tpm_->Quote(ak, qd); }
  absl::StatusOr<std::vector<std::string>> ReadPcrs() override { return tpm_->ReadPcrs(); }
  absl::Status ExtendPcr(int index, std::string_view digest) override { return tpm_->ExtendPcr(index, digest); }
  absl::StatusOr<TpmRsaPublic> ReadRsaPublic(uint32_t handle) override { return tpm_->ReadRsaPublic(handle); }
  absl::StatusOr<std::string> NvRead(uint32_t index) override { return tpm_->NvRead(index); }
  absl::Status NvWriteDefining(uint32_t index, std::string_view data) override {
    absl::Status s = tpm_->NvWriteDefining(index, data);
    if (!s.ok() || index != kHclReportDataNvIndex) return s;
    return Refresh(data);
  }

 private:
  absl::Status Refresh(std::string_view user_data) {
    absl::StatusOr<TpmRsaPublic> ak = tpm_->ReadRsaPublic(kAzureVtpmAkHandle);
    if (!ak.ok()) return ak.status();
    return tpm_->NvWriteDefining(kHclReportNvIndex,
                                 BuildFakeHclReport(type_, hardware_report_, ak->modulus, ak->exponent, user_data));
  }
  std::shared_ptr<Tpm> tpm_;
  HclReportType type_;
  std::string hardware_report_;
};

}  // namespace cdh::attestation

#endif  // CDH_ATTESTATION_FAKE_PARAVISOR_H_
