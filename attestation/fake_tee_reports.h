// Structurally valid, unsigned TDX quotes and SNP reports for tests (attesters.md §3.3, §2.3):
// they stand in for hardware that cannot run here, with the fields the attesters and the
// development verifiers look at in the right places. Thread-safe (pure functions).
#ifndef CDH_ATTESTATION_FAKE_TEE_REPORTS_H_
#define CDH_ATTESTATION_FAKE_TEE_REPORTS_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cdh::attestation {

inline constexpr size_t kTdxQuoteV4ReportDataOffset = 568;
inline constexpr size_t kTdxQuoteV4MrConfigIdOffset = 232;

// A v4 TD quote: 48-byte header (version 4, att key type 2, tee type 0x81), 584-byte TD report
// body with `mr_config_id` (48) and `report_data` (64), then a 4-byte signature length and
// `signature_size` filler bytes.
std::string FakeTdxQuoteV4(std::string_view report_data, std::string_view mr_config_id, size_t signature_size = 64);

// A 1184-byte SNP report of `version` (2, 3 or 5) from a Genoa part (family 0x19 model 0x11;
// v2 gets a non-Turin CHIP_ID) with the given 64-byte report data and 32-byte host data, and
// recognisable values elsewhere (guest_svn 7, policy 0x30000, vmpl 0, sig_algo 1,
// current version 1.55.21).
std::string FakeSnpReport(std::string_view report_data, std::string_view host_data, int version = 3);

// A GHCB certificate table with (GUID string, certificate bytes) entries.
std::string FakeSnpCertTable(const std::vector<std::pair<std::string, std::string>>& entries);

}  // namespace cdh::attestation

#endif  // CDH_ATTESTATION_FAKE_TEE_REPORTS_H_
