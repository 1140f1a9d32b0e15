// The TDX `cc_eventlog` evidence member (attesters.md §2.2): the firmware's CCEL ACPI table
// trimmed to its events, followed by the runtime-measurement event log (§6), ending in 8 bytes FF.
// Thread-safe (pure functions).
#ifndef CDH_ATTESTATION_CC_EVENTLOG_H_
#define CDH_ATTESTATION_CC_EVENTLOG_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace cdh::attestation {

// The 69-byte header put in front of a runtime event log when there is no CCEL: one SHA1-format
// EV_NO_ACTION event holding a TCG spec-ID event with an all-zero signature that declares two
// digest algorithms, sha384 (48 bytes) and sm3 (32 bytes). Same bytes as upstream's EL_HEADER.
std::string CcEventlogHeader();

// Walks the TCG2 crypto-agile events of a CCEL table (the first event may be the SHA1-format
// EV_NO_ACTION header) and cuts the table at the first u64 that is all FF or all 00.
// Digest sizes by algorithm: 0x0b → 32, 0x0c → 48, 0x0d → 64, 0x12 → 32.
// INVALID_ARGUMENT for a truncated table, an unknown digest algorithm or a missing end.
absl::StatusOr<std::string> TrimCcel(std::string_view ccel);

// The cc_eventlog bytes from the optional CCEL table and the optional runtime event log:
// nullopt when both are absent. INVALID_ARGUMENT when the CCEL is malformed.
absl::StatusOr<std::optional<std::string>> BuildCcEventlog(const std::optional<std::string>& ccel,
                                                           const std::optional<std::string>& runtime_log);

}  // namespace cdh::attestation

#endif  // CDH_ATTESTATION_CC_EVENTLOG_H_
