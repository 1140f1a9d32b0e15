#include "attestation/attester_factory.h"

#include <sys/stat.h>

#include "attestation/sample_attester.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace cdh::attestation {

absl::StatusOr<std::unique_ptr<Attester>> AttesterRegistry::Create(std::string_view tee) const {
  auto it = factories_.find(std::string(tee));
  if (it == factories_.end()) {
    std::vector<std::string> names;
    for (const auto& [name, factory] : factories_) names.push_back(name);
    return absl::UnimplementedError(
        StrCat("no attester for TEE `", tee, "` is built (available: ", StrJoin(names, ", "), ")"));
  }
  return it->second();
}

void RegisterBuiltinAttesters(AttesterRegistry& registry) {
  registry.Register(std::string(SampleAttester::kTeeName),
                    []() -> absl::StatusOr<std::unique_ptr<Attester>> { return std::make_unique<SampleAttester>(); });
}

std::vector<TeeProbe> DefaultTeeProbes(std::string_view root) {
  std::string r(root);
  return {
      {"tdx", r + "/dev/tdx_guest"},
      {"snp", r + "/sys/devices/platform/sev-guest"},
      {"csv", r + "/dev/csv-guest"},
      {"tpm", r + "/dev/tpm0"},
  };
}

absl::StatusOr<AttesterChoice> ChooseAttester(std::string_view configured_tee, const AttesterRegistry& registry,
                                              const std::vector<TeeProbe>& probes) {
  if (!configured_tee.empty()) {
    CDH_ASSIGN_OR_RETURN(std::unique_ptr<Attester> attester, registry.Create(configured_tee));
    return AttesterChoice{std::move(attester), StrCat("configured ([attestation] tee = \"", configured_tee, "\")")};
  }
  std::vector<std::string> probed;
  for (const TeeProbe& probe : probes) {
    bool present = false;
    std::string why_not;
    if (probe.check) {
      absl::StatusOr<bool> found = probe.check();
      present = found.ok() && *found;
      if (!found.ok()) why_not = StrCat(" (", ToStd(found.status().message()), ")");
    } else {
      struct stat st;
      present = ::stat(probe.path.c_str(), &st) == 0;
    }
    if (present) {
      auto attester = registry.Create(probe.tee);
      if (!attester.ok()) {
        return absl::UnimplementedError(StrCat("detected TEE `", probe.tee, "` (", probe.path,
                                               ") but no attester for it is built in this version"));
      }
      return AttesterChoice{std::move(attester).value(), StrCat("detected (", probe.path, ")")};
    }
    probed.push_back(StrCat(probe.tee, ": ", probe.path, why_not));
  }
  return absl::FailedPreconditionError(
      StrCat("no TEE detected (probed ", StrJoin(probed, ", "),
             "); sample evidence is used only when configured: set [attestation] tee = \"sample\" "
             "for development"));
}

}  // namespace cdh::attestation
