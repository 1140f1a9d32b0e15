#include "attestation/tpm_attester.h"

#include "attestation/tpm/tpm_operations.h"
#include "attestation/tpm/tpm_structures.h"
#include "common/base64.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "crypto/hash.h"
#include "crypto/rsa_pkcs1.h"

namespace cdh::attestation {

absl::Status TpmAttester::BindInitData(std::string_view digest, const CallContext& ctx) {
  return Annotate(BindInitDataToPcr8(*tpm_, digest), "tpm");
}
absl::Status TpmAttester::ExtendRuntimeMeasurement(uint64_t pcr_index, std::string_view digest) {
  return ExtendTpmPcr(*tpm_, pcr_index, digest);
}
absl::StatusOr<std::string> TpmAttester::ReadRuntimeMeasurement(uint64_t pcr_index) {
  return ReadTpmPcr(*tpm_, pcr_index);
}

TpmAttester::TpmAttester(std::shared_ptr<Tpm> tpm, uint32_t ak_handle) : tpm_(std::move(tpm)), ak_handle_(ak_handle) {}

absl::StatusOr<nlohmann::json> TpmAttester::GetEvidence(std::string_view report_data, const CallContext& ctx) {
  if (report_data.size() > kMaxReportDataInput) {
    return absl::InvalidArgumentError(StrCat("tpm: report data is ", report_data.size(), " bytes; at most ",
                                             kMaxReportDataInput, " are accepted (resized to ", kReportDataSize,
                                             " bytes of quote qualifying data)"));
  }
  // A TPM command in flight cannot be interrupted (TSS2 waits for the TPM's answer); a departed
  // or late caller is turned away before the quote starts.
  if (ctx.Cancelled()) return absl::CancelledError("tpm: abandoned, the caller departed");
  if (ctx.Expired()) return absl::DeadlineExceededError("tpm: deadline exceeded");
  std::string qualifying(report_data.substr(0, kReportDataSize));
  qualifying.resize(kReportDataSize, '\0');
  absl::StatusOr<ConsistentQuote> q = QuoteWithPcrs(*tpm_, ak_handle_, qualifying);
  if (!q.ok()) return Annotate(q.status(), "tpm");
  absl::StatusOr<TpmRsaPublic> ak = tpm_->ReadRsaPublic(ak_handle_);
  if (!ak.ok()) return Annotate(ak.status(), "tpm: reading the AK public key");
  CDH_ASSIGN_OR_RETURN(std::string spki, crypto::RsaSpkiFromModulusExponent(ak->modulus, ak->exponent));
  nlohmann::json pcrs = nlohmann::json::array();
  for (const std::string& p : q->pcrs) pcrs.push_back(crypto::HexEncode(p));
  nlohmann::json evidence;
  evidence["tpm_quote"] = {{"signature", Base64StdEncode(q->quote.signature)},
                           {"message", Base64StdEncode(q->quote.attest)},
                           {"pcrs", std::move(pcrs)}};
  evidence["ak_public"] = Base64StdEncode(spki);
  return evidence;
}

}  // namespace cdh::attestation
