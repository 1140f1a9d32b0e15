// OpenStartedEsysTpm (attestation/tpm/esys_tpm.h) in the daemon: tpm2-tss is loaded with the
// module cdh-tpm.so at the first TPM connection, not at start-up.
#include "attestation/tpm/esys_tpm.h"
#include "common/module_loader.h"
#include "common/status_macros.h"

namespace cdh::attestation {

absl::StatusOr<std::shared_ptr<Tpm>> OpenStartedEsysTpm(const std::string& tcti) {
  CDH_ASSIGN_OR_RETURN(TpmModuleOpen entry,
                       ModuleEntry<TpmModuleOpen>(kTpmModuleFile, kTpmModuleOpen, "TPM support (tpm2-tss)"));
  absl::StatusOr<std::shared_ptr<Tpm>> tpm = absl::InternalError("cdh-tpm.so returned nothing");
  entry(&tcti, &tpm);
  return tpm;
}

}  // namespace cdh::attestation
