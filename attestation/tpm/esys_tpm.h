// EsysTpm: Tpm over tpm2-tss ESAPI with a configurable TCTI (attesters.md §4.3; Debian's tpm2-tss).
// TCTI strings as tpm2-tss's loader takes them: "device:/dev/tpmrm0", "swtpm:path=/run/x.sock"
// (the swtpm TCTI needs its control socket at "<path>.ctrl"), "mssim:host=...,port=...".
//
// There may be no resource manager in between (swtpm, /dev/tpm0), so every transient object and
// session this class creates is flushed before the call returns, error or not.
//
// Thread-safe (one mutex around the ESYS context); neither copyable nor movable.
#ifndef CDH_ATTESTATION_TPM_ESYS_TPM_H_
#define CDH_ATTESTATION_TPM_ESYS_TPM_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "attestation/tpm/tpm.h"

namespace cdh::attestation {

class EsysTpm : public Tpm {
 public:
  // Connects through `tcti` (see above). UNAVAILABLE naming the TCTI when it cannot connect.
  static absl::StatusOr<std::unique_ptr<EsysTpm>> Open(const std::string& tcti);
  ~EsysTpm() override;
  EsysTpm(const EsysTpm&) = delete;
  EsysTpm& operator=(const EsysTpm&) = delete;

  absl::StatusOr<TpmQuote> Quote(uint32_t ak_handle, std::string_view qualifying_data) override;
  absl::StatusOr<std::vector<std::string>> ReadPcrs() override;
  absl::Status ExtendPcr(int index, std::string_view digest) override;
  absl::StatusOr<TpmRsaPublic> ReadRsaPublic(uint32_t handle) override;
  absl::StatusOr<std::string> NvRead(uint32_t index) override;
  absl::Status NvWriteDefining(uint32_t index, std::string_view data) override;

  // TPM2_Startup(CLEAR) for a TPM that was restarted without one (every command then fails with
  // TPM_RC_INITIALIZE: a TPM service restarted under us by the host). OK as well when the TPM
  // already was started (TPM_RC_INITIALIZE from the Startup itself); UNAVAILABLE otherwise.
  absl::Status StartupIfNeeded();

  // Provisioning, for test rigs and first-boot tooling: creates an RSA-2048 restricted signing
  // key (RSASSA/SHA-256) as a primary in the owner hierarchy, makes it persistent at `handle`
  // (replacing what was there) and flushes the transient copy. Primary keys are derived from the
  // hierarchy seed and template: a different `label` (≤ 256 bytes, put in the template's unique
  // field) gives a different key.
  absl::Status ProvisionRsaAk(uint32_t handle, std::string_view label = "");
  // Removes an NV index if it exists.
  absl::Status NvUndefine(uint32_t index);

 private:
  struct Impl;
  explicit EsysTpm(std::unique_ptr<Impl> impl);
  absl::Mutex mu_;  // one ESYS call sequence at a time (an ESYS context is not thread-safe)
  std::unique_ptr<Impl> impl_;
};

// EsysTpm::Open and StartupIfNeeded as one step, the connection the attesters use
// (TeePlatform::OpenTpm); the codes of both. Link-time seam (attestation/CMakeLists.txt): every
// binary but the daemon links EsysTpm itself (tpm2-tss linked in, attestation/tpm/esys_tpm_open.cc).
// The daemon links attestation/tpm/esys_tpm_deferred.cc instead, which loads the module
// cdh-tpm.so beside it (EsysTpm and tpm2-tss) at the first TPM connection, so a daemon on a TEE
// without a TPM never maps tpm2-tss; FAILED_PRECONDITION when that module cannot be loaded.
absl::StatusOr<std::shared_ptr<Tpm>> OpenStartedEsysTpm(const std::string& tcti);

// The module cdh-tpm.so (attestation/tpm/tpm_module.cc), for the deferred opener and the module
// only: file name (beside the executable) and its entry point, which runs the OpenStartedEsysTpm of
// attestation/tpm/esys_tpm_open.cc and stores the result in `*out`.
inline constexpr char kTpmModuleFile[] = "cdh-tpm.so";
inline constexpr char kTpmModuleOpen[] = "cdh_tpm_open_started";
using TpmModuleOpen = void (*)(const std::string* tcti, absl::StatusOr<std::shared_ptr<Tpm>>* out);

}  // namespace cdh::attestation

#endif  // CDH_ATTESTATION_TPM_ESYS_TPM_H_
