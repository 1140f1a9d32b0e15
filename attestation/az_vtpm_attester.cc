#include "attestation/az_vtpm_attester.h"

#include <thread>

#include "attestation/tpm/tpm_operations.h"
#include "common/base64.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "crypto/hash.h"

namespace cdh::attestation {
namespace {

// OK while the caller waits for the answer; CANCELLED or DEADLINE_EXCEEDED otherwise.
absl::Status CheckLive(const CallContext& ctx, std::string_view name) {
  if (ctx.Cancelled()) return absl::CancelledError(StrCat(name, ": abandoned, the caller departed"));
  if (ctx.Expired()) return absl::DeadlineExceededError(StrCat(name, ": deadline exceeded"));
  return absl::OkStatus();
}

}  // namespace

std::string Base64UrlPaddedEncode(std::string_view bytes) {
  std::string s = Base64UrlEncode(bytes);
  while (s.size() % 4 != 0) s.push_back('=');
  return s;
}

AzVtpmAttester::AzVtpmAttester(HclReportType type, std::shared_ptr<Tpm> tpm, std::shared_ptr<ImdsClient> imds,
                               absl::Duration hcl_refresh_delay)
    : type_(type), tpm_(std::move(tpm)), imds_(std::move(imds)), delay_(hcl_refresh_delay) {}

absl::StatusOr<nlohmann::json> AzVtpmAttester::GetEvidence(std::string_view report_data, const CallContext& ctx) {
  std::string name(tee());
  if (report_data.empty() || report_data.size() > kMaxReportData) {
    return absl::InvalidArgumentError(
        StrCat(name, ": report data is ", report_data.size(), " bytes; it must be 1..", kMaxReportData));
  }
  absl::MutexLock lock(&mu_);
  // TPM commands cannot be interrupted once sent; a departed or late caller is turned away before
  // each step that waits (the NV write, the HCL refresh, IMDS — which the departure also aborts
  // in flight — and the quote).
  CDH_RETURN_IF_ERROR(CheckLive(ctx, name));
  absl::Status w = tpm_->NvWriteDefining(kHclReportDataNvIndex, report_data);
  if (!w.ok()) return Annotate(w, StrCat(name, ": writing report data to NV 0x01400002"));
  if (delay_ > absl::ZeroDuration()) {
    if (ctx.Remaining() < delay_)
      return absl::DeadlineExceededError(StrCat(name, ": deadline too short for the HCL refresh"));
    if (ctx.cancellation == nullptr) {
      absl::SleepFor(delay_);
    } else if (ctx.cancellation->WaitUntil(absl::Now() + delay_)) {
      return absl::CancelledError(StrCat(name, ": abandoned during the HCL refresh, the caller departed"));
    }
  }
  absl::StatusOr<std::string> hcl = tpm_->NvRead(kHclReportNvIndex);
  if (!hcl.ok()) return Annotate(hcl.status(), StrCat(name, ": reading the HCL report from NV 0x01400001"));
  absl::StatusOr<HclReport> parsed = ParseHclReport(*hcl);
  if (!parsed.ok()) return Annotate(parsed.status(), name);
  if (parsed->type != type_) {
    return absl::FailedPreconditionError(StrCat(name, ": the HCL report is of the other TEE type"));
  }

  nlohmann::json evidence;
  evidence["version"] = kEvidenceVersion;
  if (type_ == HclReportType::kTdx) {
    absl::StatusOr<std::string> quote = imds_->GetTdQuote(parsed->hardware_report, ctx);
    if (!quote.ok()) return Annotate(quote.status(), StrCat(name, ": TD quote from IMDS"));
    evidence["td_quote"] = Base64UrlPaddedEncode(*quote);
  } else {
    absl::StatusOr<std::string> vcek = imds_->GetVcekDer(ctx);
    if (!vcek.ok()) return Annotate(vcek.status(), StrCat(name, ": VCEK from IMDS"));
    evidence["vcek"] = Base64UrlPaddedEncode(*vcek);
  }
  CDH_RETURN_IF_ERROR(CheckLive(ctx, name));
  absl::StatusOr<ConsistentQuote> q = QuoteWithPcrs(*tpm_, kAzureVtpmAkHandle, report_data);
  if (!q.ok()) return Annotate(q.status(), name);
  nlohmann::json pcrs = nlohmann::json::array();
  for (const std::string& p : q->pcrs) pcrs.push_back(crypto::HexEncode(p));
  evidence["tpm_quote"] = {{"signature", crypto::HexEncode(q->quote.raw_signature)},
                           {"message", crypto::HexEncode(q->quote.attest)},
                           {"pcrs", std::move(pcrs)}};
  evidence["hcl_report"] = Base64UrlPaddedEncode(*hcl);
  return evidence;
}

}  // namespace cdh::attestation

namespace cdh::attestation {

absl::Status AzVtpmAttester::BindInitData(std::string_view digest, const CallContext& ctx) {
  return Annotate(BindInitDataToPcr8(*tpm_, digest), tee());
}
absl::Status AzVtpmAttester::ExtendRuntimeMeasurement(uint64_t pcr_index, std::string_view digest) {
  return ExtendTpmPcr(*tpm_, pcr_index, digest);
}
absl::StatusOr<std::string> AzVtpmAttester::ReadRuntimeMeasurement(uint64_t pcr_index) {
  return ReadTpmPcr(*tpm_, pcr_index);
}

}  // namespace cdh::attestation
