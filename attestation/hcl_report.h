// The Azure paravisor's HCL report (TPM NV index 0x01400001; attesters.md §4.2). Little-endian:
//   0 "HCLA" | 4 version | 8 report_size | 12 request_type | 16 status | 20 reserved[12]
//   32 hardware report area (1184 bytes: SNP report, or 1024-byte TDREPORT + zeros)
//   1216 IGVM data_size | 1220 IGVM version | 1224 report_type (2 SNP, 4 TDX)
//   1228 report_data_hash_type (1 = SHA-256) | 1232 variable_data_size | 1236 variable data (JSON)
// Binding: hardware report_data[0..32] = SHA-256(variable data) (SNP report_data at HCL offset
// 112, TDX TDREPORT reportdata at 160). Thread-safe (pure functions over untrusted bytes).
#ifndef CDH_ATTESTATION_HCL_REPORT_H_
#define CDH_ATTESTATION_HCL_REPORT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace cdh::attestation {

inline constexpr uint32_t kHclReportNvIndex = 0x01400001;
inline constexpr uint32_t kHclReportDataNvIndex = 0x01400002;
inline constexpr uint32_t kAzureVtpmAkHandle = 0x81000003;
inline constexpr size_t kHclHardwareReportOffset = 32;
inline constexpr size_t kHclHardwareReportArea = 1184;
inline constexpr size_t kHclVarDataOffset = 1236;
inline constexpr size_t kTdReportSize = 1024;
inline constexpr size_t kTdReportReportDataOffset = 128;

enum class HclReportType : uint32_t { kSnp = 2, kTdx = 4 };

struct HclReport {
  HclReportType type = HclReportType::kSnp;
  std::string hardware_report;  // SNP: 1184 bytes; TDX: the 1024-byte TDREPORT
  std::string var_data;         // runtime claims JSON, exact bytes
  // The 64 bytes of REPORT_DATA / reportdata inside the hardware report.
  std::string hardware_report_data;
};

// INVALID_ARGUMENT for a bad signature, unknown report type, unsupported hash type, or sizes that
// run past the buffer.
absl::StatusOr<HclReport> ParseHclReport(std::string_view bytes);

// The HCL attestation key (JWK kid "HCLAkPub" in var data `keys`) as DER SubjectPublicKeyInfo.
// INVALID_ARGUMENT when var data is not JSON or has no such RSA key.
absl::StatusOr<std::string> HclAkPublicSpki(std::string_view var_data);

}  // namespace cdh::attestation

#endif  // CDH_ATTESTATION_HCL_REPORT_H_
