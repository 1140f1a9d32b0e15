// ReconnectingTpm: a Tpm that survives the loss of its TPM connection (the TPM resource manager
// or swtpm restarted, a TCTI socket reset). An ESYS context whose transport failed never works
// again, so after any UNAVAILABLE answer (the TCTI's I/O errors and the TPM errors that are not
// about our input, esys_tpm.h) the connection is dropped and the next call opens a new one
// through the opener (a new TCTI and ESYS context).
//
// Calls that may safely run twice (Quote, ReadPcrs, ReadRsaPublic, NvRead, NvWriteDefining, which
// writes the same bytes) are retried once at once on the new connection, so the first call after
// a restart already succeeds. ExtendPcr is never retried: the failed attempt may have reached
// the TPM, and a second extend would change the PCR twice; it returns UNAVAILABLE (retryable by
// the caller, who knows whether the measurement must be repeated) and the next call reconnects.
//
// Codes: the inner Tpm's; UNAVAILABLE naming the failure when no new connection can be opened.
// Thread-safe (calls run on the current connection, which the inner Tpm serialises); neither
// copyable nor movable.
#ifndef CDH_ATTESTATION_TPM_RECONNECTING_TPM_H_
#define CDH_ATTESTATION_TPM_RECONNECTING_TPM_H_

#include <functional>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "attestation/tpm/tpm.h"

namespace cdh::attestation {

class ReconnectingTpm : public Tpm {
 public:
  using Opener = std::function<absl::StatusOr<std::shared_ptr<Tpm>>()>;

  // Opens the first connection now (its error is returned as is).
  static absl::StatusOr<std::unique_ptr<ReconnectingTpm>> Open(Opener opener);
  ReconnectingTpm(const ReconnectingTpm&) = delete;
  ReconnectingTpm& operator=(const ReconnectingTpm&) = delete;

  absl::StatusOr<TpmQuote> Quote(uint32_t ak_handle, std::string_view qualifying_data) override;
  absl::StatusOr<std::vector<std::string>> ReadPcrs() override;
  absl::Status ExtendPcr(int index, std::string_view digest) override;
  absl::StatusOr<TpmRsaPublic> ReadRsaPublic(uint32_t handle) override;
  absl::StatusOr<std::string> NvRead(uint32_t index) override;
  absl::Status NvWriteDefining(uint32_t index, std::string_view data) override;

  // Connections opened so far (1 after Open).
  int connections_opened();

 private:
  ReconnectingTpm(Opener opener, std::shared_ptr<Tpm> first);
  // The current connection, opening one if the last was dropped.
  absl::StatusOr<std::shared_ptr<Tpm>> Current();
  // Drops `failed` if it is still the current connection.
  void Drop(const std::shared_ptr<Tpm>& failed);
  template <typename T>
  T Run(bool retry_once, const std::function<T(Tpm&)>& call);

  const Opener opener_;
  absl::Mutex mu_;
  std::shared_ptr<Tpm> tpm_ ABSL_GUARDED_BY(mu_);
  int opened_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace cdh::attestation

#endif  // CDH_ATTESTATION_TPM_RECONNECTING_TPM_H_
