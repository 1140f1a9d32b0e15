#include "server/aa_handlers.h"

#include <spdlog/spdlog.h>

#include "common/strings.h"

namespace cdh {
namespace {

namespace aa = ::attestation_agent;

constexpr char kService[] = "attestation_agent.AttestationAgentService";

// Logs the failure and prefixes upstream's top-level text; messages are already free of secrets.
absl::Status Fail(const absl::Status& status, std::string_view rpc) {
  std::string message = Sanitize(StrCat("AA ", rpc, " failed: ", ToStd(status.message())), 2048);
  spdlog::warn("{} failed: code={} {}", rpc, absl::StatusCodeToString(status.code()), message);
  return absl::Status(status.code(), message);
}

void WipeReply(aa::GetTokenResponse& r) { SecretBytes::WipeForeign(*r.mutable_token()); }
template <typename T>
void WipeReply(T&) {}

template <typename Req, typename Resp>
ApiHandlers::RawHandler Raw(AaHandlers* self,
                            absl::StatusOr<Resp> (AaHandlers::*method)(const Req&, const CallContext&),
                            std::string_view rpc) {
  return [self, method, rpc = std::string(rpc)](std::string_view bytes,
                                                const CallContext& ctx) -> absl::StatusOr<SecretBytes> {
    Req req;
    if (!req.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      return absl::InvalidArgumentError(StrCat(rpc, ": request is not a valid ", req.GetTypeName(), " message"));
    }
    auto resp = (self->*method)(req, ctx);
    if (!resp.ok()) return resp.status();
    SecretBytes out(resp->ByteSizeLong());
    bool serialised = resp->SerializeToArray(out.RevealMutable().data(), static_cast<int>(out.size()));
    WipeReply(*resp);
    if (!serialised) return absl::InternalError(StrCat(rpc, ": reply could not be serialised"));
    return out;
  };
}

}  // namespace

absl::StatusOr<aa::GetEvidenceResponse> AaHandlers::GetEvidence(const aa::GetEvidenceRequest& req,
                                                                const CallContext& ctx) {
  auto evidence = agent_.GetEvidence(req.runtimedata(), ctx);
  if (!evidence.ok()) return Fail(evidence.status(), "GetEvidence");
  aa::GetEvidenceResponse out;
  out.set_evidence(std::move(*evidence));
  return out;
}

absl::StatusOr<aa::GetEvidenceResponse> AaHandlers::GetAdditionalEvidence(const aa::GetAdditionalEvidenceRequest& req,
                                                                          const CallContext& ctx) {
  auto evidence = agent_.GetAdditionalEvidence(req.runtimedata(), ctx);
  if (!evidence.ok()) return Fail(evidence.status(), "GetAdditionalEvidence");
  aa::GetEvidenceResponse out;
  out.set_evidence(std::move(*evidence));
  return out;
}

absl::StatusOr<aa::GetTokenResponse> AaHandlers::GetToken(const aa::GetTokenRequest& req, const CallContext& ctx) {
  auto token = agent_.GetToken(req.tokentype(), ctx);
  if (!token.ok()) return Fail(token.status(), "GetToken");
  aa::GetTokenResponse out;
  out.set_token(std::string(token->RevealString()));
  return out;
}

absl::StatusOr<aa::ExtendRuntimeMeasurementResponse> AaHandlers::ExtendRuntimeMeasurement(
    const aa::ExtendRuntimeMeasurementRequest& req, const CallContext&) {
  std::optional<uint64_t> index;
  if (req.has_registerindex()) index = req.registerindex();
  auto result = agent_.ExtendRuntimeMeasurement(req.domain(), req.operation(), req.content(), index);
  if (!result.ok()) return Fail(result.status(), "ExtendRuntimeMeasurement");
  aa::ExtendRuntimeMeasurementResponse out;
  out.set_result(static_cast<aa::RuntimeMeasurementResult>(static_cast<int>(*result)));
  return out;
}

absl::StatusOr<aa::BindInitDataResponse> AaHandlers::BindInitData(const aa::BindInitDataRequest& req,
                                                                  const CallContext& ctx) {
  absl::Status s = agent_.BindInitData(req.digest(), ctx);
  if (!s.ok()) return Fail(s, "BindInitData");
  return aa::BindInitDataResponse();
}

absl::StatusOr<aa::GetTeeTypeResponse> AaHandlers::GetTeeType(const aa::GetTeeTypeRequest&, const CallContext&) {
  aa::GetTeeTypeResponse out;
  out.set_tee(agent_.GetTeeType());
  return out;
}

absl::StatusOr<aa::GetAdditionalTeesResponse> AaHandlers::GetAdditionalTees(const aa::GetAdditionalTeesRequest&,
                                                                            const CallContext&) {
  aa::GetAdditionalTeesResponse out;
  for (std::string& tee : agent_.GetAdditionalTees()) out.add_additional_tees(std::move(tee));
  return out;
}

ApiHandlers::MethodTable AaHandlers::BuildMethodTable() {
  ApiHandlers::MethodTable table;
  table[{kService, "GetEvidence"}] = Raw(this, &AaHandlers::GetEvidence, "GetEvidence");
  table[{kService, "GetAdditionalEvidence"}] = Raw(this, &AaHandlers::GetAdditionalEvidence, "GetAdditionalEvidence");
  table[{kService, "GetToken"}] = Raw(this, &AaHandlers::GetToken, "GetToken");
  table[{kService, "ExtendRuntimeMeasurement"}] =
      Raw(this, &AaHandlers::ExtendRuntimeMeasurement, "ExtendRuntimeMeasurement");
  table[{kService, "BindInitData"}] = Raw(this, &AaHandlers::BindInitData, "BindInitData");
  table[{kService, "GetTeeType"}] = Raw(this, &AaHandlers::GetTeeType, "GetTeeType");
  table[{kService, "GetAdditionalTees"}] = Raw(this, &AaHandlers::GetAdditionalTees, "GetAdditionalTees");
  return table;
}

}  // namespace cdh
