// EvidenceVerifier: the broker-side checks of TEE evidence that need no vendor root of trust,
// for the development KBS and tests (attesters.md §7). Implemented for:
//   tpm          TPMT_SIGNATURE (RSASSA/SHA-256) over TPMS_ATTEST with the DER `ak_public`;
//                quote selection = sha256 PCRs 0-23; SHA-256(PCRs) == pcrDigest;
//                extraData == expected report data resized to 32 bytes; optional AK allow-list
//                (Trustee leaves AK trust to policy, `trusted_ak`).
//   az-tdx-vtpm  (1) quote signature with the HCL report's HCLAkPub; (2) extraData == expected,
//   az-snp-vtpm  unpadded; (3) SHA-256(PCRs) == pcrDigest; (4) SHA-256(HCL var data) ==
//                report_data[0..32] of the TD quote (tdx) or of the HCL's SNP report (snp);
//                (5) version ≥ 2: hex `user-data` starts with the expected report data;
//                SNP: VMPL 0; TDX: quote version 4 or 5.
//   all three    init data given: PCR 8 == SHA-256(0^32 ‖ digest).
// NOT checked (needs Intel PCS / AMD KDS roots, unavailable here): the TD quote's DCAP signature
// and the VCEK chain and SNP report signature. A production broker must add them.
//
// Codes of Verify: UNAUTHENTICATED when the evidence does not verify (the message says which
// check); INVALID_ARGUMENT when it is malformed. Implementations are thread-safe and immutable.
#ifndef CDH_ATTESTATION_VERIFIER_EVIDENCE_VERIFIER_H_
#define CDH_ATTESTATION_VERIFIER_EVIDENCE_VERIFIER_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace cdh::attestation {

class EvidenceVerifier {
 public:
  virtual ~EvidenceVerifier() = default;
  // `expected_report_data`: the runtime-data digest the broker computed (48 bytes for SHA-384).
  // `init_data_digest`: the init-data digest when the client sent init data. Returns claims:
  // {"report_data": hex, "pcrNN": hex..., "init_data": hex PCR 8 (when checked), ...}.
  virtual absl::StatusOr<nlohmann::json> Verify(const nlohmann::json& evidence, std::string_view expected_report_data,
                                                const std::optional<std::string>& init_data_digest) const = 0;
};

// `trusted_aks`: DER SubjectPublicKeyInfo of accepted AKs; empty = any AK (then only the policy
// can make the result meaningful, as in Trustee).
std::unique_ptr<EvidenceVerifier> NewTpmVerifier(std::vector<std::string> trusted_aks = {});
std::unique_ptr<EvidenceVerifier> NewAzTdxVtpmVerifier();
std::unique_ptr<EvidenceVerifier> NewAzSnpVtpmVerifier();

// TEE name → verifier: "tpm", "az-tdx-vtpm", "az-snp-vtpm".
std::map<std::string, std::shared_ptr<EvidenceVerifier>> DevelopmentVerifiers();

}  // namespace cdh::attestation

#endif  // CDH_ATTESTATION_VERIFIER_EVIDENCE_VERIFIER_H_
