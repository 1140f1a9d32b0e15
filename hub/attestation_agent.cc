#include "hub/attestation_agent.h"

#include "common/json.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace cdh {

absl::StatusOr<std::shared_ptr<MeasurementLog>> MeasurementLog::Open(std::unique_ptr<attestation::Attester> attester,
                                                                     attestation::RuntimeMeasurer::Options options) {
  if (attester == nullptr) return absl::InvalidArgumentError("measurement log: no attester");
  std::shared_ptr<MeasurementLog> log(new MeasurementLog());
  log->attester_ = std::move(attester);
  CDH_ASSIGN_OR_RETURN(log->measurer_, attestation::RuntimeMeasurer::Open(*log->attester_, std::move(options)));
  return log;
}

absl::StatusOr<std::unique_ptr<AttestationAgent>> AttestationAgent::New(AttestationAgentParts parts) {
  if (parts.attester == nullptr) return absl::InvalidArgumentError("attestation agent: no attester");
  return std::unique_ptr<AttestationAgent>(new AttestationAgent(std::move(parts)));
}

absl::StatusOr<std::string> AttestationAgent::GetEvidence(std::string_view runtime_data, const CallContext& ctx) {
  CDH_ASSIGN_OR_RETURN(nlohmann::json evidence, attester_->GetEvidence(runtime_data, ctx));
  return DumpJson(evidence);
}

absl::StatusOr<std::string> AttestationAgent::GetAdditionalEvidence(std::string_view, const CallContext&) {
  return std::string();
}

absl::StatusOr<SecretBytes> AttestationAgent::GetToken(std::string_view token_type, const CallContext& ctx) {
  if (token_type == "coco_as") return absl::UnimplementedError("token type `coco_as` is not built into this agent");
  if (token_type != "kbs")
    return absl::InvalidArgumentError(StrCat("Unsupported token type `", Sanitize(token_type), "`"));
  if (kbs_session_ == nullptr) {
    return absl::FailedPreconditionError("kbs token config not configured (no broker URL)");
  }
  CDH_ASSIGN_OR_RETURN(SecretBytes token, kbs_session_->Token(ctx));
  // {"token":"<JWT>"}: a JWT is base64url and dots, so it needs no JSON escaping; anything else
  // from the broker is refused rather than quoted.
  for (char c : token.RevealString()) {
    bool jwt_char = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                    c == '_' || c == '.' || c == '=';
    if (!jwt_char) return absl::UnavailableError("the broker's token is not a JWT");
  }
  SecretBytes out;
  out.reserve(token.size() + 12);
  out.Append("{\"token\":\"");
  out.Append(token.RevealString());
  out.Append("\"}");
  return out;
}

absl::StatusOr<MeasurementResult> AttestationAgent::ExtendRuntimeMeasurement(std::string_view domain,
                                                                             std::string_view operation,
                                                                             std::string_view content,
                                                                             std::optional<uint64_t> register_index) {
  if (!eventlog_enabled_) return MeasurementResult::kNotEnabled;
  if (log_ == nullptr || !attester_->RuntimeMeasurementDigestSize().has_value()) {
    return MeasurementResult::kNotSupported;
  }
  CDH_RETURN_IF_ERROR(log_->Measure(domain, operation, content, register_index));
  return MeasurementResult::kOk;
}

absl::Status AttestationAgent::BindInitData(std::string_view digest, const CallContext& ctx) {
  absl::Status s = attester_->BindInitData(digest, ctx);
  if (s.code() == absl::StatusCode::kUnimplemented) return absl::OkStatus();  // upstream `Unsupported`
  return s;
}

}  // namespace cdh
