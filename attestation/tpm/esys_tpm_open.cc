// OpenStartedEsysTpm (attestation/tpm/esys_tpm.h) in every binary but the daemon: tpm2-tss linked
// in. The daemon links attestation/tpm/esys_tpm_deferred.cc instead; its module cdh-tpm.so runs this.
#include "attestation/tpm/esys_tpm.h"
#include "common/status_macros.h"

namespace cdh::attestation {

absl::StatusOr<std::shared_ptr<Tpm>> OpenStartedEsysTpm(const std::string& tcti) {
  CDH_ASSIGN_OR_RETURN(std::unique_ptr<EsysTpm> esys, EsysTpm::Open(tcti));
  CDH_RETURN_IF_ERROR(esys->StartupIfNeeded());
  return std::shared_ptr<Tpm>(std::move(esys));
}

}  // namespace cdh::attestation
