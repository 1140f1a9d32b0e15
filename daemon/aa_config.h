// AaConfig: the attestation agent's configuration file (`attestation-agent -c FILE`, the kata agent
// passes /run/confidential-containers/initdata/aa.toml), parsed once into a typed struct. Upstream
// keys keep upstream meaning (guest-components attestation-agent/attestation-agent/src/config/):
//
//   [token_configs.kbs]
//   url = "http://kbs:8080"        # the broker GetToken("kbs") attests to
//   cert = "-----BEGIN ..."        # PEM trust anchor of that broker
//   [eventlog_config]
//   enable_eventlog = false        # ExtendRuntimeMeasurement answers NOT_ENABLED while false
//   init_pcr = 17                  # PCR used when a call names none
//   log_path = "/run/attestation-agent/eventlog"   # ext
//   [log]
//   level = "info"
//   [attestation]                  # ext, as in the data hub's configuration (daemon/config.h)
//   tee = "sample"
//
// Unknown keys are accepted with a warning; `[token_configs.coco_as]` is accepted with a warning
// (not built). Copyable value type; thread-compatible.
#ifndef CDH_DAEMON_AA_CONFIG_H_
#define CDH_DAEMON_AA_CONFIG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "attestation/runtime_measurement.h"
#include "daemon/config.h"
#include "spdlog/common.h"

namespace cdh {

struct AaConfig {
  std::optional<std::string> kbs_url;   // [token_configs.kbs] url
  std::optional<std::string> kbs_cert;  // [token_configs.kbs] cert
  bool eventlog_enabled = false;
  uint64_t init_pcr = 17;
  std::string eventlog_path = attestation::kDefaultRuntimeLogPath;
  spdlog::level::level_enum log_level = spdlog::level::info;
  AttestationConfig attestation;
  std::vector<std::string> warnings;
};

// `path` names the file in messages and chooses the format (.toml or .json). INVALID_ARGUMENT
// naming the key for a malformed value (a url that is not http(s)://, init_pcr over 23).
absl::StatusOr<AaConfig> ParseAaConfig(const std::string& path, const std::string& text);

}  // namespace cdh

#endif  // CDH_DAEMON_AA_CONFIG_H_
