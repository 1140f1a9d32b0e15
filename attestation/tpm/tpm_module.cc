// The module cdh-tpm.so: EsysTpm and tpm2-tss for the daemon, loaded at the first TPM connection
// by attestation/tpm/esys_tpm_deferred.cc. It carries its own copy of EsysTpm and binds its calls
// to it (-Bsymbolic-functions), so OpenStartedEsysTpm here is the one of
// attestation/tpm/esys_tpm_open.cc, not the daemon's deferring one.
#include <type_traits>

#include "attestation/tpm/esys_tpm.h"

extern "C" {

__attribute__((visibility("default"))) void cdh_tpm_open_started(
    const std::string* tcti, absl::StatusOr<std::shared_ptr<cdh::attestation::Tpm>>* out) {
  *out = cdh::attestation::OpenStartedEsysTpm(*tcti);
}

}  // extern "C"

static_assert(std::is_same_v<decltype(&cdh_tpm_open_started), cdh::attestation::TpmModuleOpen>);
