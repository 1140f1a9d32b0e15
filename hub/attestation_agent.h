// AttestationAgent: the attestation agent's API (guest-components
// attestation-agent/attestation-agent/src/lib.rs, `AttestationAPIs`), served from this daemon's own
// attester, its one KBS session and its runtime-measurement event log, so the attestation agent,
// the data hub and the REST front share one attestation instead of three.
//
// Differences from upstream, each on purpose:
//   * GetToken("kbs") returns the token of the session the data hub itself uses: a cached, valid
//     token is handed out without a new handshake (upstream attests again for every call). The
//     reply is upstream's JSON object without `tee_keypair`: the TEE private key the token is bound
//     to never leaves the KBS client (kbs-client/tee_key.h); resources are fetched through the
//     data hub's GetResource instead.
//   * There are no additional attestable devices here: GetAdditionalTees is empty and
//     GetAdditionalEvidence empty bytes, as upstream answers on a machine without such devices.
//
// Thread-safe (every part is); neither copyable nor movable.
#ifndef CDH_HUB_ATTESTATION_AGENT_H_
#define CDH_HUB_ATTESTATION_AGENT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "attestation/attester.h"
#include "attestation/runtime_measurement.h"
#include "common/call_context.h"
#include "common/secret_bytes.h"
#include "kbs-client/kbs_client.h"

namespace cdh {

// A runtime-measurement event log with the attester whose register it extends (the measurer
// refers to the attester). Shared by the attestation agent's ExtendRuntimeMeasurement and the
// post-pull measurement of PullImage, so both land in one log. Neither copyable nor movable;
// thread-safe (RuntimeMeasurer is).
class MeasurementLog {
 public:
  // `attester` must support runtime measurement; the codes of attestation::RuntimeMeasurer::Open
  // (UNIMPLEMENTED when it does not, FAILED_PRECONDITION for a write-ahead record that cannot be
  // reconciled, UNAVAILABLE on I/O errors).
  static absl::StatusOr<std::shared_ptr<MeasurementLog>> Open(std::unique_ptr<attestation::Attester> attester,
                                                              attestation::RuntimeMeasurer::Options options);
  ~MeasurementLog() { measurer_.reset(); }  // before the attester it refers to
  MeasurementLog(const MeasurementLog&) = delete;
  MeasurementLog& operator=(const MeasurementLog&) = delete;

  // attestation::RuntimeMeasurer::Measure.
  absl::Status Measure(std::string_view domain, std::string_view operation, std::string_view content,
                       std::optional<uint64_t> pcr_index = std::nullopt) {
    return measurer_->Measure(domain, operation, content, pcr_index);
  }
  std::string_view tee() const { return attester_->tee(); }

 private:
  MeasurementLog() = default;
  std::unique_ptr<attestation::Attester> attester_;
  std::unique_ptr<attestation::RuntimeMeasurer> measurer_;
};

// Upstream's RuntimeMeasurementResult (attestation-agent.proto): the numeric values are the wire's.
enum class MeasurementResult { kOk = 0, kNotSupported = 1, kNotEnabled = 2 };

struct AttestationAgentParts {
  std::unique_ptr<attestation::Attester> attester;  // the primary TEE; required
  // The broker session GetToken("kbs") answers from; null when no broker is configured.
  std::shared_ptr<kbs::KbsClient> kbs_session;
  // upstream `[eventlog_config] enable_eventlog`.
  bool eventlog_enabled = false;
  // The event log; null when disabled or when the TEE has no runtime measurement.
  std::shared_ptr<MeasurementLog> log;
};

class AttestationAgent {
 public:
  // INVALID_ARGUMENT when `parts.attester` is null.
  static absl::StatusOr<std::unique_ptr<AttestationAgent>> New(AttestationAgentParts parts);
  AttestationAgent(const AttestationAgent&) = delete;
  AttestationAgent& operator=(const AttestationAgent&) = delete;

  // The primary TEE's evidence JSON (UTF-8 text) for `runtime_data`, passed to the attester
  // verbatim as report data (at most 64 bytes for every TEE). The attester's codes: INVALID_ARGUMENT
  // for report data the TEE cannot carry, UNAVAILABLE, DEADLINE_EXCEEDED.
  absl::StatusOr<std::string> GetEvidence(std::string_view runtime_data, const CallContext& ctx);
  // A JSON object TEE name -> evidence for each additional device; "" when there is none (always,
  // in this build).
  absl::StatusOr<std::string> GetAdditionalEvidence(std::string_view runtime_data, const CallContext& ctx);

  // `token_type` "kbs": {"token":"<JWT>"} from the shared session (see the file comment).
  // FAILED_PRECONDITION when no broker is configured; INVALID_ARGUMENT for an unknown token type;
  // UNIMPLEMENTED for "coco_as" (not built); the session's codes otherwise (UNAUTHENTICATED when
  // the broker refuses the evidence, UNAVAILABLE when it cannot be reached, DEADLINE_EXCEEDED).
  absl::StatusOr<SecretBytes> GetToken(std::string_view token_type, const CallContext& ctx);

  // Appends "<domain> <operation> <content>" to the event log and extends `register_index` (a PCR
  // number; default the log's init_pcr) — attesters.md §6. kNotEnabled when the log is disabled,
  // kNotSupported when the TEE has no runtime measurement (upstream checks in that order).
  // INVALID_ARGUMENT for an empty domain/operation, one with a space or newline, content with a
  // newline, or an index the TEE rejects; UNAVAILABLE on device or file errors.
  absl::StatusOr<MeasurementResult> ExtendRuntimeMeasurement(std::string_view domain, std::string_view operation,
                                                             std::string_view content,
                                                             std::optional<uint64_t> register_index);

  // Binds an init-data digest (raw bytes) to the TEE (attestation::Attester::BindInitData). OK
  // also when the TEE has no binding (upstream's `Unsupported`); PERMISSION_DENIED on a mismatch;
  // INVALID_ARGUMENT for a digest size the TEE cannot take; UNAVAILABLE on device errors.
  absl::Status BindInitData(std::string_view digest, const CallContext& ctx);

  std::string GetTeeType() const { return std::string(attester_->tee()); }
  std::vector<std::string> GetAdditionalTees() const { return {}; }

 private:
  explicit AttestationAgent(AttestationAgentParts parts)
      : attester_(std::move(parts.attester)),
        kbs_session_(std::move(parts.kbs_session)),
        eventlog_enabled_(parts.eventlog_enabled),
        log_(std::move(parts.log)) {}

  const std::unique_ptr<attestation::Attester> attester_;
  const std::shared_ptr<kbs::KbsClient> kbs_session_;
  const bool eventlog_enabled_;
  const std::shared_ptr<MeasurementLog> log_;
};

}  // namespace cdh

#endif  // CDH_HUB_ATTESTATION_AGENT_H_
