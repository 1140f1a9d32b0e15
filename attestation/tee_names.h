// The TEE names of KBS protocol 0.4.0 as they appear on the wire (`tee` of the /auth request;
// kbs-protocol.md §1.1, attesters.md §1.3). One table for the targeted protocol version: older
// spellings such as `azsnpvtpm`, and `sev` (removed from kbs-types), are not
// accepted. Thread-safe (constants).
#ifndef CDH_ATTESTATION_TEE_NAMES_H_
#define CDH_ATTESTATION_TEE_NAMES_H_

#include <algorithm>
#include <array>
#include <string_view>

namespace cdh::attestation {

inline constexpr std::array<std::string_view, 13> kKbsTeeNames = {
    "az-snp-vtpm", "az-tdx-vtpm", "nvidia",   "sgx", "snp",    "tdx",         "cca",
    "csv",         "se",          "hygondcu", "tpm", "sample", "sampledevice"};

inline bool IsKbsTeeName(std::string_view name) {
  return std::find(kKbsTeeNames.begin(), kKbsTeeNames.end(), name) != kKbsTeeNames.end();
}

}  // namespace cdh::attestation

#endif  // CDH_ATTESTATION_TEE_NAMES_H_
