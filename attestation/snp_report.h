// SEV-SNP attestation report and certificate table, converted to the JSON the upstream `snp`
// attester sends: the serde form of the SEV crate v6.3 types (attesters.md §2.3). Byte arrays are
// JSON arrays of integers; `policy`, `plat_info`, `key_info` are numbers; TCB versions are
// {"fmc": null|n, "bootloader", "tee", "snp", "microcode"}; versions {"major","minor","build"};
// optional fields (cpuid_*, *_mit_vector) are null when the report version lacks them.
// Thread-safe (pure functions).
#ifndef CDH_ATTESTATION_SNP_REPORT_H_
#define CDH_ATTESTATION_SNP_REPORT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace cdh::attestation {

inline constexpr size_t kSnpReportSize = 1184;  // ATTESTATION_REPORT, bytes
inline constexpr size_t kSnpReportDataOffset = 0x50;
inline constexpr size_t kSnpHostDataOffset = 0xC0;
inline constexpr size_t kSnpHostDataSize = 32;

// Report versions this attester knows (SEV-SNP ABI: 2 on Milan firmware before 1.55, 3 and 5
// later; the SEV crate v6.3 parses these).
inline constexpr uint32_t kSnpMinReportVersion = 2;
inline constexpr uint32_t kSnpMaxReportVersion = 5;

// Checks a report the firmware produced for us before it is sent as evidence: 1184 bytes, a
// known version, REPORT_DATA (offset 0x50, 64 bytes) equal to `report_data` (64 bytes).
// FAILED_PRECONDITION otherwise, naming what is wrong: the platform gave us evidence that is
// not what we asked for (docs/errors.md); it is never sent.
absl::Status CheckSnpReport(std::string_view report, std::string_view report_data);

// The `attestation_report` object for a raw 1184-byte report. Processor generation (which picks
// the TCB byte layout) follows the SEV crate: version 2 → Turin when the last 56 bytes of CHIP_ID
// are zero, else Genoa; versions 3+ → from CPUID family/model (0x19: 0x00-0x0F Milan,
// 0x10-0x1F/0xA0-0xAF Genoa; 0x1A: 0x00-0x11 Turin).
// INVALID_ARGUMENT for a wrong size, version < 2, a masked CHIP_ID in a v2 report, or an unknown
// processor.
absl::StatusOr<nlohmann::json> SnpReportToJson(std::string_view report);

// The `cert_chain` array for a GHCB certificate table (24-byte entries: GUID[16] as stored,
// offset u32 LE, length u32 LE, relative to the table start; terminated by an all-zero GUID):
// [{"cert_type": "ARK"|"ASK"|"VCEK"|"VLEK"|"CRL"|{"OTHER": "<uuid>"}, "data": [ints]}, ...].
// INVALID_ARGUMENT when an entry or certificate lies outside the table or the end is missing.
absl::StatusOr<nlohmann::json> SnpCertTableToJson(std::string_view table);

}  // namespace cdh::attestation

#endif  // CDH_ATTESTATION_SNP_REPORT_H_
