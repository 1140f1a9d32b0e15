// Attester: produces TEE evidence that binds caller-chosen report data (upstream's Attester trait,
// confidential-containers/guest-components attestation-agent/attester/src/lib.rs). One
// implementation per TEE (sample, tdx, snp, tpm, az-*-vtpm). The KBS client passes the
// runtime-data digest of the KBS protocol (Trustee kbs/docs/kbs_attestation_protocol.md) as
// report data.
//
// Contract: implementations are thread-safe (GetEvidence may run concurrently); neither
// copyable nor movable. Status codes of GetEvidence:
//   INVALID_ARGUMENT    report data of a size the TEE cannot carry
//   UNAVAILABLE         the TEE device or service did not answer (retryable)
//   DEADLINE_EXCEEDED   the caller's deadline passed
//   INTERNAL            a bug
#ifndef CDH_ATTESTATION_ATTESTER_H_
#define CDH_ATTESTATION_ATTESTER_H_

#include <cstdint>
#include <optional>
#include <string>
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

  // Init data binding (attesters.md §5.2). `digest` = H(init-data TOML) with the TOML's algorithm.
  //   tdx: MRCONFIGID == digest zero-padded/truncated to 48 (verified; the host set it)
  //   snp: HOST_DATA == digest zero-padded/truncated to 32 (verified)
  //   tpm, az-*-vtpm: PCR 8 extended with the digest (performed; 32 bytes, so sha256 init data).
  //     Idempotent: when PCR 8 already equals SHA256(0^32 || digest) nothing is extended again
  //     (a restarted daemon must not double-extend).
  // Codes: UNIMPLEMENTED (this TEE has no binding, e.g. sample); PERMISSION_DENIED (mismatch, or
  // PCR 8 already holds another value); INVALID_ARGUMENT (a digest size the TEE cannot take);
  // UNAVAILABLE (device errors).
  virtual absl::Status BindInitData(std::string_view digest, const CallContext& ctx) {
    return absl::UnimplementedError(std::string(tee()) + ": no init data binding");
  }

  // Runtime measurement (attesters.md §6). `pcr_index` is a PCR number; each TEE maps it to its
  // register (MrIndex). Digests are RuntimeMeasurementHash() sized (tdx: 48, TPM: 32 bytes).
  // Codes: UNIMPLEMENTED (not supported here), INVALID_ARGUMENT (index or digest size),
  // UNAVAILABLE (device errors).
  virtual std::optional<int> RuntimeMeasurementDigestSize() const { return std::nullopt; }
  // The eventlog's hash algorithm name ("sha384" for tdx, "sha256" for TPMs).
  virtual std::string_view RuntimeMeasurementHash() const { return ""; }
  // The measurement register (CC MR, 1-based for tdx; the PCR itself for TPMs) of a PCR index.
  virtual uint32_t MrIndex(uint64_t pcr_index) const { return static_cast<uint32_t>(pcr_index); }
  virtual absl::Status ExtendRuntimeMeasurement(uint64_t pcr_index, std::string_view digest) {
    return absl::UnimplementedError(std::string(tee()) + ": runtime measurement is not supported");
  }
  virtual absl::StatusOr<std::string> ReadRuntimeMeasurement(uint64_t pcr_index) {
    return absl::UnimplementedError(std::string(tee()) + ": runtime measurement is not supported");
  }
};

}  // namespace cdh::attestation

#endif  // CDH_ATTESTATION_ATTESTER_H_
