// The composition root's building blocks: from a CdhConfig to a running Hub. The only place
// that knows every concrete component; the registries are explicit objects filled here
// (no static-initialiser registration: those are silently dropped when CMake links static
// libraries).
#ifndef CDH_DAEMON_COMPOSITION_H_
#define CDH_DAEMON_COMPOSITION_H_

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "attestation/attester_factory.h"
#include "daemon/config.h"
#include "hub/attestation_agent.h"
#include "hub/hub.h"
#include "kbs-client/kbs_client.h"

namespace cdh {

// KBC name -> its traits and the factory of its ResourceProvider: the only list of KBC names.
// Copyable; thread-compatible (filled once, then read).
class KbcRegistry {
 public:
  using Factory = std::function<absl::StatusOr<std::unique_ptr<resources::ResourceProvider>>(const CdhConfig& config)>;
  // A later registration of the same name replaces the earlier one.
  void Register(std::string name, KbcTraits traits, Factory factory);
  // Names and traits, for LoadConfig's validation.
  std::map<std::string, KbcTraits, std::less<>> Traits() const;
  // The provider for `config.kbc.name`: INVALID_ARGUMENT for a name that is not registered,
  // whatever the factory returns otherwise.
  absl::StatusOr<std::unique_ptr<resources::ResourceProvider>> New(const CdhConfig& config) const;

 private:
  struct Entry {
    KbcTraits traits;
    Factory factory;
  };
  std::map<std::string, Entry, std::less<>> entries_;
};

// What the roles of one daemon process share (the attestation agent, the data hub and the REST
// front, daemon/guest_daemon.h): one attested KBS session per broker URL and one runtime-measurement
// event log. The first role that needs either creates it; later ones reuse it. Thread-safe;
// neither copyable nor movable.
class SharedAttestation {
 public:
  SharedAttestation() = default;
  SharedAttestation(const SharedAttestation&) = delete;
  SharedAttestation& operator=(const SharedAttestation&) = delete;

  // The session for `url`, created with `make` when there is none yet (whatever `make` returns
  // on failure; nothing is kept then). A later caller's differing attestation settings are not
  // applied to an existing session.
  absl::StatusOr<std::shared_ptr<kbs::KbsClient>> Session(
      const std::string& url, const std::function<absl::StatusOr<std::unique_ptr<kbs::KbsClient>>()>& make)
      ABSL_LOCKS_EXCLUDED(mu_);

  // The event log, opened with `open` at the first call; null (and logged once by `open`'s
  // caller) when the TEE has no runtime measurement. Later calls return the first answer.
  std::shared_ptr<MeasurementLog> Log(const std::function<std::shared_ptr<MeasurementLog>()>& open)
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<kbs::KbsClient>, std::less<>> sessions_ ABSL_GUARDED_BY(mu_);
  bool log_opened_ ABSL_GUARDED_BY(mu_) = false;
  std::shared_ptr<MeasurementLog> log_ ABSL_GUARDED_BY(mu_);
};

// The attester `attestation` names (`tee`), or the detected one (attestation/attester_factory.h:
// never a silent fallback to `sample`). UNIMPLEMENTED / FAILED_PRECONDITION as ChooseAttester.
absl::StatusOr<attestation::AttesterChoice> ChooseConfiguredAttester(const AttestationConfig& attestation);

// A broker session as the cc_kbc KBC and the attestation agent build it: the attester of
// `attestation` (configured or detected, never a silent sample fallback; logged), its init data
// bound to the TEE and sent with every attestation, and the RCAR client over libcurl.
// The codes of ChooseAttester, LoadInitData, BindInitData and NewCurlKbsClient.
absl::StatusOr<std::unique_ptr<kbs::KbsClient>> NewKbsSession(const std::string& url,
                                                              const std::optional<std::string>& kbs_cert,
                                                              const AttestationConfig& attestation);

// The event log of `attestation`'s TEE at `log_path` (attestation/runtime_measurement.h), or null
// when the TEE has no runtime measurement or the log cannot be opened (both logged).
std::shared_ptr<MeasurementLog> OpenMeasurementLog(const AttestationConfig& attestation, const std::string& log_path,
                                                   uint64_t init_pcr);

// The KBCs this build has: cc_kbc (attested access to a KBS) and offline_fs_kbc. With `shared`,
// cc_kbc takes its session from it (one attestation for every role of the daemon).
KbcRegistry BuiltinKbcs(SharedAttestation* shared = nullptr);

// The KBC and TEE names this build has, for LoadConfig.
KnownPlugins BuiltinPlugins();

// Builds the resource provider for `config.kbc.name`, the sealed-secret unsealer and the
// volume drivers, with BuiltinKbcs(). INVALID_ARGUMENT for an unknown KBC; whatever a factory
// returns otherwise.
// With `shared`, the KBS session and the event log of image pulls are the daemon's shared ones.
absl::StatusOr<std::unique_ptr<Hub>> BuildHub(const CdhConfig& config, SharedAttestation* shared = nullptr);

// Fetches every [[credentials]] resource and writes it (mode 0600) to its path, which
// LoadConfig has already confined to <base_dir>/kbs (cdh-api.md §6 step 3). The first failure
// is returned, annotated with the resource URI; files already written stay.
absl::Status FetchCredentials(const CdhConfig& config, DataHub& hub, const CallContext& ctx);

}  // namespace cdh

#endif  // CDH_DAEMON_COMPOSITION_H_
