// SwtpmRig: a real swtpm (TPM 2.0 emulator) started for one test on unix sockets under a fresh
// temp directory (Debian's swtpm; attesters.md §4.5-4.6), killed and removed on destruction.
// No ports, no shared state with other engineers' instances. Test-only library code.
//
// Not thread-safe; neither copyable nor movable.
#ifndef CDH_ATTESTATION_TPM_SWTPM_RIG_H_
#define CDH_ATTESTATION_TPM_SWTPM_RIG_H_

#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace cdh::attestation {

class SwtpmRig {
 public:
  // Starts `swtpm socket --tpm2` with startup-clear and waits (up to 20 s) for its socket.
  // UNAVAILABLE when swtpm is missing or does not come up.
  static absl::StatusOr<std::unique_ptr<SwtpmRig>> Start();
  ~SwtpmRig();
  SwtpmRig(const SwtpmRig&) = delete;
  SwtpmRig& operator=(const SwtpmRig&) = delete;

  // "swtpm:path=<dir>/tpm.sock" (the control socket is "<dir>/tpm.sock.ctrl").
  std::string tcti() const { return "swtpm:path=" + socket_; }
  const std::string& dir() const { return dir_; }
  // Stops swtpm (SIGTERM, as a host's TPM service restart) and starts it again on the same
  // sockets and state (persistent keys and NV survive; PCRs start from zero). Every connection
  // to the old process is broken. With `startup_clear` false the new TPM waits for a
  // TPM2_Startup, as after a power cycle no firmware followed. UNAVAILABLE when it does not come
  // up again.
  absl::Status Restart(bool startup_clear = true);
  // Stops swtpm; Restart starts it again.
  void Stop() { Kill(); }

 private:
  SwtpmRig() = default;
  absl::Status Launch(bool startup_clear = true);
  void Kill();
  std::string dir_;
  std::string socket_;
  pid_t pid_ = -1;
};

}  // namespace cdh::attestation

#endif  // CDH_ATTESTATION_TPM_SWTPM_RIG_H_
