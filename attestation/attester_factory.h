// Choosing the attester: an explicit registry of TEE name -> factory (filled by the composition
// root, not by static initialisers), hardware detection by probing paths (attesters.md §1.2), and the
// policy that ties them together:
//
//   configured tee "sample"   -> the sample attester (development only; logged loudly by the caller)
//   configured tee "<name>"   -> that attester, UNIMPLEMENTED if it is not built
//   configured tee "" (auto)  -> the first TEE whose probe matches; UNIMPLEMENTED when it is
//                                detected but its attester is not built;
//                                FAILED_PRECONDITION naming every path probed when none matches.
// There is no silent fallback to sample evidence (upstream falls back, and the broker then
// refuses the evidence with a confusing 401).
//
// AttesterRegistry is copyable and thread-compatible (fill it, then share it read-only).
#ifndef CDH_ATTESTATION_ATTESTER_FACTORY_H_
#define CDH_ATTESTATION_ATTESTER_FACTORY_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "attestation/attester.h"

namespace cdh::attestation {

using AttesterFactory = std::function<absl::StatusOr<std::unique_ptr<Attester>>()>;

class AttesterRegistry {
 public:
  // Later registrations of the same name replace earlier ones.
  void Register(std::string tee, AttesterFactory factory) { factories_[std::move(tee)] = std::move(factory); }
  bool Has(std::string_view tee) const { return factories_.find(std::string(tee)) != factories_.end(); }
  // The registered TEE names, sorted.
  std::vector<std::string> Names() const {
    std::vector<std::string> names;
    for (const auto& [name, factory] : factories_) names.push_back(name);
    return names;
  }
  // UNIMPLEMENTED when no factory is registered for `tee`; otherwise what the factory returns.
  absl::StatusOr<std::unique_ptr<Attester>> Create(std::string_view tee) const;

 private:
  std::map<std::string, AttesterFactory> factories_;
};

// Registers the attesters that need no hardware: "sample" (RegisterHardwareAttesters in
// tee_platform.h adds the hardware ones).
void RegisterBuiltinAttesters(AttesterRegistry& registry);

// One hardware probe (attesters.md §1.2): the TEE is present when `check` returns true, or, when
// `check` is not set, when `path` exists. `path` names what is probed in messages (a path or a
// short description). A failing check counts as "absent" and its message is reported.
struct TeeProbe {
  std::string tee;
  std::string path;
  std::function<absl::StatusOr<bool>()> check = nullptr;
};

// The probes of attesters.md §1.2 that need no device access beyond a stat(): tdx, snp, csv,
// tpm (upstream order). `root` is prepended to every path. Superseded in the daemon by
// DetectionProbes() (tee_platform.h), which also probes configfs-tsm and the Azure vTPM.
std::vector<TeeProbe> DefaultTeeProbes(std::string_view root);

// The result of choosing: the attester and how it was chosen, for the startup log line.
struct AttesterChoice {
  std::unique_ptr<Attester> attester;
  std::string how;  // e.g. "configured ([attestation] tee = \"sample\")" or "detected (/dev/tdx_guest)"
};

// Applies the policy above. `configured_tee` is `[attestation] tee` ("" = auto).
absl::StatusOr<AttesterChoice> ChooseAttester(std::string_view configured_tee, const AttesterRegistry& registry,
                                              const std::vector<TeeProbe>& probes);

}  // namespace cdh::attestation

#endif  // CDH_ATTESTATION_ATTESTER_FACTORY_H_
