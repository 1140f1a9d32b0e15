#include "attestation/tpm/tpm_operations.h"

#include "attestation/tpm/tpm_structures.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "crypto/hash.h"

namespace cdh::attestation {

absl::StatusOr<ConsistentQuote> QuoteWithPcrs(Tpm& tpm, uint32_t ak_handle, std::string_view qualifying_data) {
  constexpr int kAttempts = 3;
  for (int i = 0; i < kAttempts; ++i) {
    ConsistentQuote out;
    CDH_ASSIGN_OR_RETURN(out.quote, tpm.Quote(ak_handle, qualifying_data));
    CDH_ASSIGN_OR_RETURN(out.pcrs, tpm.ReadPcrs());
    absl::StatusOr<TpmQuoteAttest> attest = ParseTpmQuoteAttest(out.quote.attest);
    // Our own evidence is checked before it leaves: a quote that does not parse, or that
    // qualifies another nonce, is the TPM's (or its transport's) fault, and is never sent.
    if (!attest.ok()) {
      return absl::FailedPreconditionError(StrCat("the TPM's quote: ", ToStd(attest.status().message())));
    }
    if (attest->extra_data != qualifying_data) {
      return absl::FailedPreconditionError(
          "the TPM's quote qualifies other data than the nonce we asked for (TPMS_ATTEST extraData)");
    }
    std::string concat;
    for (const std::string& p : out.pcrs) concat += p;
    if (crypto::Sha256(concat) == attest->pcr_digest) return out;
  }
  return absl::UnavailableError("TPM PCRs kept changing between the quote and the PCR read");
}

absl::Status BindInitDataToPcr8(Tpm& tpm, std::string_view digest) {
  constexpr int kInitDataPcr = 8;
  if (digest.size() != kTpmSha256Size) {
    return absl::InvalidArgumentError(StrCat("the init data digest is ", digest.size(),
                                             " bytes; binding it to PCR 8 needs a 32-byte digest "
                                             "(init data `algorithm = \"sha256\"`)"));
  }
  CDH_ASSIGN_OR_RETURN(std::vector<std::string> pcrs, tpm.ReadPcrs());
  std::string bound = crypto::Sha256(std::string(kTpmSha256Size, '\0') + std::string(digest));
  if (pcrs[kInitDataPcr] == bound) return absl::OkStatus();  // already bound (e.g. daemon restart)
  if (pcrs[kInitDataPcr] != std::string(kTpmSha256Size, '\0')) {
    return absl::PermissionDeniedError("PCR 8 already holds a value other than this init data's binding");
  }
  CDH_RETURN_IF_ERROR(tpm.ExtendPcr(kInitDataPcr, digest));
  return absl::OkStatus();
}

absl::Status ExtendTpmPcr(Tpm& tpm, uint64_t pcr_index, std::string_view digest) {
  if (pcr_index >= static_cast<uint64_t>(kTpmPcrCount)) {
    return absl::InvalidArgumentError(StrCat("PCR index ", pcr_index, " is outside 0..23"));
  }
  return tpm.ExtendPcr(static_cast<int>(pcr_index), digest);
}

absl::StatusOr<std::string> ReadTpmPcr(Tpm& tpm, uint64_t pcr_index) {
  if (pcr_index >= static_cast<uint64_t>(kTpmPcrCount)) {
    return absl::InvalidArgumentError(StrCat("PCR index ", pcr_index, " is outside 0..23"));
  }
  CDH_ASSIGN_OR_RETURN(std::vector<std::string> pcrs, tpm.ReadPcrs());
  return pcrs[pcr_index];
}

}  // namespace cdh::attestation
