// AaHandlers: the attestation agent's RPC handlers (`attestation_agent.AttestationAgentService`,
// proto/attestation_agent.proto, upstream's wire names), thin over hub/attestation_agent.h: decode,
// call, encode; every failure is logged and returned with upstream's top-level text and a final code
// (mapped to the wire in server/status_mapping.h). The ttrpc server and the REST front
// (server/rest_front.h) call the same handlers.
//
// Thread-safe (AttestationAgent is); neither copyable nor movable (transports hold references).
#ifndef CDH_SERVER_AA_HANDLERS_H_
#define CDH_SERVER_AA_HANDLERS_H_

#include "absl/status/statusor.h"
#include "common/call_context.h"
#include "hub/attestation_agent.h"
#include "proto/attestation_agent.pb.h"
#include "server/api_handlers.h"

namespace cdh {

class AaHandlers {
 public:
  explicit AaHandlers(AttestationAgent& agent) : agent_(agent) {}
  AaHandlers(const AaHandlers&) = delete;
  AaHandlers& operator=(const AaHandlers&) = delete;

  // Codes: those of the AttestationAgent method each one calls.
  absl::StatusOr<attestation_agent::GetEvidenceResponse> GetEvidence(const attestation_agent::GetEvidenceRequest& req,
                                                                     const CallContext& ctx);
  absl::StatusOr<attestation_agent::GetEvidenceResponse> GetAdditionalEvidence(
      const attestation_agent::GetAdditionalEvidenceRequest& req, const CallContext& ctx);
  // The reply's Token is the SecretBytes of AttestationAgent::GetToken, copied into protobuf's
  // string and wiped once serialised (the raw table below).
  absl::StatusOr<attestation_agent::GetTokenResponse> GetToken(const attestation_agent::GetTokenRequest& req,
                                                               const CallContext& ctx);
  absl::StatusOr<attestation_agent::ExtendRuntimeMeasurementResponse> ExtendRuntimeMeasurement(
      const attestation_agent::ExtendRuntimeMeasurementRequest& req, const CallContext& ctx);
  absl::StatusOr<attestation_agent::BindInitDataResponse> BindInitData(
      const attestation_agent::BindInitDataRequest& req, const CallContext& ctx);
  absl::StatusOr<attestation_agent::GetTeeTypeResponse> GetTeeType(const attestation_agent::GetTeeTypeRequest& req,
                                                                   const CallContext& ctx);
  absl::StatusOr<attestation_agent::GetAdditionalTeesResponse> GetAdditionalTees(
      const attestation_agent::GetAdditionalTeesRequest& req, const CallContext& ctx);

  // The seven methods over serialized bytes, keyed {"attestation_agent.AttestationAgentService",
  // "<Method>"}; INVALID_ARGUMENT when request bytes do not decode.
  ApiHandlers::MethodTable BuildMethodTable();

 private:
  AttestationAgent& agent_;
};

}  // namespace cdh

#endif  // CDH_SERVER_AA_HANDLERS_H_
