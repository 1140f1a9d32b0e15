// A compact HCL report for tests (hcl_report.h describes the layout): it stands in for the Azure
// paravisor, which cannot run here. Test-only: lives in cdh_attestation_fakes, never in the
// daemon. Thread-safe (pure function).
#ifndef CDH_ATTESTATION_FAKE_HCL_REPORT_H_
#define CDH_ATTESTATION_FAKE_HCL_REPORT_H_

#include <string>
#include <string_view>

#include "attestation/hcl_report.h"

namespace cdh::attestation {

// Builds a compact HCL report for tests on swtpm (≤ 2048-byte NV limit): `hardware_report` put at
// offset 32, var data JSON with the AK JWK (`ak_n`, `ak_e` big-endian) and `user_data`
// (uppercase hex of the report data zero-padded to 64), and SHA-256(var data) written into the
// hardware report's report_data. Stands in for the paravisor, which cannot run here.
std::string BuildFakeHclReport(HclReportType type, std::string hardware_report, std::string_view ak_n,
                               std::string_view ak_e, std::string_view user_data);

}  // namespace cdh::attestation

#endif  // CDH_ATTESTATION_FAKE_HCL_REPORT_H_
