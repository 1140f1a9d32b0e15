// Tpm: the TPM 2.0 operations the `tpm`, `az-tdx-vtpm` and `az-snp-vtpm` attesters need
// (attesters.md §4.1, §4.3). The real implementation is EsysTpm (tpm2-tss ESAPI over a TCTI,
// esys_tpm.h); attesters depend on this interface only.
//
// All sizes are in bytes; PCRs are the sha256 bank, indices 0..23. Implementations are
// thread-safe. Codes:
//   INVALID_ARGUMENT     a size or index the TPM cannot take (checked before calling it, or the
//                        TPM answered TPM_RC_SIZE/TPM_RC_VALUE: the message says which input)
//   NOT_FOUND            no object/NV index at the handle (TPM_RC_HANDLE)
//   UNAVAILABLE          the TCTI/TPM did not answer, or another TPM error (message carries the
//                        decoded TPM response code and the operation)
#ifndef CDH_ATTESTATION_TPM_TPM_H_
#define CDH_ATTESTATION_TPM_TPM_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace cdh::attestation {

inline constexpr int kTpmPcrCount = 24;
inline constexpr size_t kTpmSha256Size = 32;
// TPM2B_DATA holds at most sizeof(TPMU_HA) = 64 bytes (qualifying data of TPM2_Quote).
inline constexpr size_t kTpmMaxQualifyingData = 64;

struct TpmQuote {
  std::string attest;         // marshalled TPMS_ATTEST (the signed message)
  std::string signature;      // marshalled TPMT_SIGNATURE (sigAlg RSASSA, hash sha256, u16 size, bytes)
  std::string raw_signature;  // the RSA signature bytes alone
};

struct TpmRsaPublic {
  std::string modulus;   // big-endian
  std::string exponent;  // big-endian (65537 when the TPM reports 0)
};

class Tpm {
 public:
  virtual ~Tpm() = default;

  // TPM2_Quote with the signing key at persistent `ak_handle` (RSA, scheme RSASSA/SHA-256) over
  // sha256 PCRs 0..23, with `qualifying_data` (0..64 bytes) as extraData.
  virtual absl::StatusOr<TpmQuote> Quote(uint32_t ak_handle, std::string_view qualifying_data) = 0;
  // The 24 sha256 PCR values, 32 bytes each, in index order.
  virtual absl::StatusOr<std::vector<std::string>> ReadPcrs() = 0;
  // TPM2_PCR_Extend of sha256 PCR `index` (0..23) with a 32-byte `digest`.
  virtual absl::Status ExtendPcr(int index, std::string_view digest) = 0;
  // TPM2_ReadPublic of an RSA key at a persistent handle.
  virtual absl::StatusOr<TpmRsaPublic> ReadRsaPublic(uint32_t handle) = 0;
  // The whole contents of an NV index, read with owner authorisation in chunks.
  virtual absl::StatusOr<std::string> NvRead(uint32_t index) = 0;
  // Owner-authorised write of `data` at offset 0. When the index is missing or has a different
  // size it is (re)defined with owner read/write, name algorithm sha256, size = data length.
  virtual absl::Status NvWriteDefining(uint32_t index, std::string_view data) = 0;
};

}  // namespace cdh::attestation

#endif  // CDH_ATTESTATION_TPM_TPM_H_
