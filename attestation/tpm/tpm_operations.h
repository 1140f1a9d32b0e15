// TPM operations shared by the TPM-backed attesters (`tpm`, `az-tdx-vtpm`, `az-snp-vtpm`;
// attesters.md §4.3, §5.2): a quote whose PCR list matches its pcrDigest, the PCR 8 init-data
// binding and sha256 PCR extend/read for runtime measurement. They run over the Tpm interface
// (tpm.h) only. Thread-safe as far as the Tpm is (it serialises its calls).
#ifndef CDH_ATTESTATION_TPM_TPM_OPERATIONS_H_
#define CDH_ATTESTATION_TPM_TPM_OPERATIONS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "attestation/tpm/tpm.h"

namespace cdh::attestation {

// A quote and the PCR list it covers.
struct ConsistentQuote {
  TpmQuote quote;
  std::vector<std::string> pcrs;  // 24 × 32 bytes
};
// The PCR 8 init-data binding of the TPM-backed TEEs (attesters.md §5.2), idempotent: extends
// only when PCR 8 is still all zero; OK when it already equals SHA256(0^32 ‖ digest);
// PERMISSION_DENIED when it holds anything else; INVALID_ARGUMENT unless `digest` is 32 bytes.
absl::Status BindInitDataToPcr8(Tpm& tpm, std::string_view digest);
// sha256 PCR `pcr_index` (0..23) extend/read for runtime measurement; INVALID_ARGUMENT for an
// index outside 0..23, the Tpm's codes otherwise.
absl::Status ExtendTpmPcr(Tpm& tpm, uint64_t pcr_index, std::string_view digest);
absl::StatusOr<std::string> ReadTpmPcr(Tpm& tpm, uint64_t pcr_index);

// Quote + PCR read with a consistency check: retries (3 attempts) when a PCR was extended between
// the quote and the read, so the PCR list always matches the quote's pcrDigest. UNAVAILABLE when
// the PCRs kept changing; FAILED_PRECONDITION when the TPM's TPMS_ATTEST does not parse or its
// extraData is not `qualifying_data` (our own evidence, checked before it is sent); the Tpm's
// codes otherwise.
absl::StatusOr<ConsistentQuote> QuoteWithPcrs(Tpm& tpm, uint32_t ak_handle, std::string_view qualifying_data);

}  // namespace cdh::attestation

#endif  // CDH_ATTESTATION_TPM_TPM_OPERATIONS_H_
