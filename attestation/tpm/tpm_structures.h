// Parsers for the marshalled TPM 2.0 structures carried in quote evidence (attesters.md §4.3):
// TPMS_ATTEST of a quote and TPMT_SIGNATURE (RSASSA). Big-endian, as the TPM marshals them.
// Used by the attesters (quote/PCR consistency) and the development verifiers. Pure functions
// over untrusted bytes: every length is checked; thread-safe.
#ifndef CDH_ATTESTATION_TPM_TPM_STRUCTURES_H_
#define CDH_ATTESTATION_TPM_TPM_STRUCTURES_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace cdh::attestation {

inline constexpr uint32_t kTpmGeneratedValue = 0xff544347;  // TPM_GENERATED_VALUE
inline constexpr uint16_t kTpmStAttestQuote = 0x8018;
inline constexpr uint16_t kTpmAlgSha256 = 0x000b;
inline constexpr uint16_t kTpmAlgRsassa = 0x0014;

struct TpmPcrSelection {
  uint16_t hash = 0;
  std::string select;  // bitmap, PCR i = bit (i % 8) of byte i / 8
};

struct TpmQuoteAttest {
  std::string qualified_signer;
  std::string extra_data;  // = qualifyingData of TPM2_Quote
  uint64_t clock = 0;
  uint32_t reset_count = 0;
  uint32_t restart_count = 0;
  bool safe = false;
  uint64_t firmware_version = 0;
  std::vector<TpmPcrSelection> pcr_select;
  std::string pcr_digest;
};

// INVALID_ARGUMENT when `attest` is not a complete TPMS_ATTEST of type quote with the TPM's magic.
absl::StatusOr<TpmQuoteAttest> ParseTpmQuoteAttest(std::string_view attest);

// The RSA signature bytes of a marshalled TPMT_SIGNATURE {sigAlg RSASSA, hash sha256, u16 size,
// bytes}. INVALID_ARGUMENT for another algorithm, hash or a length mismatch.
absl::StatusOr<std::string> ParseTpmRsassaSha256Signature(std::string_view signature);

// True when `selection` selects exactly sha256 PCRs 0..23.
bool SelectsAllSha256Pcrs(const std::vector<TpmPcrSelection>& selection);

}  // namespace cdh::attestation

#endif  // CDH_ATTESTATION_TPM_TPM_STRUCTURES_H_
