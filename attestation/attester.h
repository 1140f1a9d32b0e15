// Attester: produces TEE evidence that binds caller-chosen report data (attesters.md §1.1; see
// ../shared/spec/attesters.md). One implementation per TEE (sample here; tdx, snp, tpm... in
// issue 5). The KBS client passes the runtime-data digest of kbs-protocol.md §2.2 as report data.
//
// Contract: implementations are thread-safe (GetEvidence may run concurrently); neither
// copyable nor movable. Status codes of GetEvidence:
//   INVALID_ARGUMENT    report data of a size the TEE cannot carry
//   UNAVAILABLE         the TEE device or service did not answer (retryable)
//   DEADLINE_EXCEEDED   the caller's deadline passed
//   INTERNAL            a bug
#ifndef CDH_ATTESTATION_ATTESTER_H_
#define CDH_ATTESTATION_ATTESTER_H_

#include <string_view>

#include "absl/status/statusor.h"
#include "common/call_context.h"
#include "nlohmann/json.hpp"

namespace cdh::attestation {

class Attester {
 public:
  virtual ~Attester() = default;

  // The TEE name as sent on the wire in the KBS `/auth` request (kbs-protocol.md §1.1):
  // "sample", "tdx", "snp", "az-snp-vtpm", ...
  virtual std::string_view tee() const = 0;

  // The evidence JSON (the `primary_evidence` value of kbs-protocol.md §1.2) for `report_data`,
  // raw bytes (48 for the default SHA-384 digest; at most 64 for every TEE).
  virtual absl::StatusOr<nlohmann::json> GetEvidence(std::string_view report_data, const CallContext& ctx) = 0;
};

}  // namespace cdh::attestation

#endif  // CDH_ATTESTATION_ATTESTER_H_
