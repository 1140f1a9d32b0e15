// CdhConfig: the daemon's configuration, parsed once into typed, validated structs
// (cdh-api.md §4-6). Upstream keys keep upstream meaning; our additions are marked "ext".
//
// Sources and precedence (README "Configuration"):
//   1. `-c FILE` (TOML, or JSON by the .json extension). `[kbc]` is required in a file, as
//      upstream. Everything in the file wins over the environment and the kernel command line.
//   2. Without a file: `[kbc]` comes from env AA_KBC_PARAMS=<kbc>::<url>, else from the kernel
//      command line `agent.aa_kbc_params=<kbc>::<url>`, else offline_fs_kbc with no URL.
//      (Upstream lets a pre-set AA_KBC_PARAMS override the file's [kbc]; we do not: the explicit
//      file is the user's intent. A differing AA_KBC_PARAMS is reported as a warning.)
//   3. Every `cdh.kbs_resources=<uri>::<path>,...` on the kernel command line is appended to
//      [[credentials]], with or without a file.
//   4. OFFLINE_FS_KBC_EXTRA_FILE_PATH (comma-separated) is appended to the offline_fs_kbc files.
// Unknown keys are accepted with a warning (upstream ignores them); keys we parse but do not
// act on yet ([aa]) are accepted with a warning naming them. A malformed value fails
// with INVALID_ARGUMENT naming the key.
//
// Copyable value types; thread-compatible.
#ifndef CDH_DAEMON_CONFIG_H_
#define CDH_DAEMON_CONFIG_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "attestation/init_data.h"
#include "attestation/tee_platform.h"
#include "common/unix_socket_address.h"
#include "hub/image_pull_config.h"
#include "nlohmann/json.hpp"
#include "server/rest_policy.h"
#include "spdlog/common.h"

namespace cdh {

inline constexpr char kDefaultTtrpcSocket[] = "unix:///run/confidential-containers/cdh.sock";
inline constexpr char kDefaultGrpcSocket[] = "unix:///run/confidential-containers/cdh-grpc.sock";
inline constexpr char kDefaultBaseDir[] = "/run/confidential-containers/cdh";
// Upstream's default KBC when neither a file, AA_KBC_PARAMS nor the kernel command line names one.
inline constexpr char kDefaultKbcName[] = "offline_fs_kbc";

// What the configuration must know about one KBC to validate `[kbc]`. The composition root's KBC
// registry is the only list of KBC names (daemon/composition.h, BuiltinPlugins()).
struct KbcTraits {
  bool needs_broker_url = false;  // `kbc.url` is required and must be http:// or https://
};

// The plugin names this build has, which configuration values must name.
struct KnownPlugins {
  std::map<std::string, KbcTraits, std::less<>> kbcs;  // KBC name -> traits
  std::vector<std::string> tees;                       // `[attestation] tee` values
};

struct KbcConfig {
  std::string name = kDefaultKbcName;
  // KBS base URL, e.g. "http://127.0.0.1:8080"; required for a KBC with needs_broker_url.
  std::optional<std::string> url;
  std::optional<std::string> kbs_cert;  // PEM text (not a path) of the broker's TLS trust anchor
};

struct CredentialConfig {
  std::string resource_uri;  // KBS resource URI
  std::string path;          // where to write it; must be under <base_dir>/kbs
};

struct AttestationConfig {  // ext
  // The TEE to attest as; std::nullopt = detect it. "sample" must be named explicitly.
  std::optional<std::string> tee;
  // Where the TEE interfaces live: attestation's defaults, with the file's `tpm_tcti`,
  // `tpm_ak_handle` (hex string "0x81010002" in the file), `tsm_report_root` and `imds_url` applied.
  attestation::TeePaths paths;
  // The init-data TOML (attesters.md §5). When present it is bound to the TEE at startup (a
  // mismatch stops the daemon) and sent to the KBS.
  std::string init_data_path = attestation::kDefaultInitDataPath;
};

// ext [secure_mount] data_path: which data path SecureMount's block-device volume type uses
// (storage/README.md). auto = kernel (dm-crypt) when device-mapper is available, else userspace.
enum class DataPathChoice { kAuto, kKernel, kUserspace };
std::string_view DataPathChoiceName(DataPathChoice choice);  // "auto" | "kernel" | "userspace"

struct CdhConfig {
  // ttrpc listen address for the kata agent (upstream `socket`).
  UnixSocketAddress socket = DefaultTtrpcSocket();
  // ext: gRPC listen address, for grpcurl and cdh-tool. std::nullopt (`grpc_socket = ""`) disables gRPC.
  std::optional<UnixSocketAddress> grpc_socket = DefaultGrpcSocket();
  bool skip_sealed_secret_verification = false;
  KbcConfig kbc;
  std::vector<CredentialConfig> credentials;
  // `[log] level` (trace|debug|info|warn|error|off, any case), or RUST_LOG.
  spdlog::level::level_enum log_level = spdlog::level::info;
  AttestationConfig attestation;
  ImagePullConfig image;
  // ext [paths] base_dir: replaces upstream's hard-coded /run/confidential-containers/cdh, under
  // which kbs/ (credentials), sealed-secret/ (local verification keys) and luks-headers/ live.
  std::string base_dir = kDefaultBaseDir;
  // ext [offline_fs_kbc] resource_files: the JSON files offline_fs_kbc reads, in order
  // (default: upstream's two /etc files, cdh-api.md §9.4).
  std::vector<std::string> offline_fs_files;
  DataPathChoice secure_mount_data_path = DataPathChoice::kAuto;
  // ext [rest_api]: who may use which route of the REST front (server/rest_policy.h); std::nullopt
  // serves every local caller, as upstream's api-server-rest.
  std::optional<RestPolicy> rest_policy;
  // Override of SealedSecretKeyDir() for tools (the `secret` CLI's --kid-dir); not a file key.
  std::optional<std::string> sealed_secret_key_dir;
  // Warnings found while loading (unknown or not-yet-used keys); logged by the daemon.
  std::vector<std::string> warnings;

  std::string CredentialsDir() const { return base_dir + "/kbs"; }
  std::string SealedSecretKeyDir() const { return sealed_secret_key_dir.value_or(base_dir + "/sealed-secret"); }
  std::string LuksHeadersDir() const { return base_dir + "/luks-headers"; }

  static UnixSocketAddress DefaultTtrpcSocket();
  static UnixSocketAddress DefaultGrpcSocket();
};

// Everything the loader reads, gathered by the composition root (no getenv elsewhere).
struct ConfigSources {
  std::optional<std::string> file_path;    // -c
  std::optional<std::string> file_text;    // contents of file_path (read by the caller)
  std::map<std::string, std::string> env;  // AA_KBC_PARAMS, OFFLINE_FS_KBC_EXTRA_FILE_PATH, ...
  std::string kernel_cmdline;              // contents of /proc/cmdline ("" if unreadable)
};

// Builds the effective configuration, validated against the plugins this build has. INVALID_ARGUMENT
// naming the key (and file) on a malformed value, an unsupported file extension, a missing [kbc]
// in a file, a bad AA_KBC_PARAMS/agent.aa_kbc_params, a KBC or TEE not in `plugins`, or a
// credential path outside <base_dir>/kbs.
absl::StatusOr<CdhConfig> LoadConfig(const ConfigSources& sources, const KnownPlugins& plugins);

// A configuration file as JSON: TOML, or JSON by the .json extension (for the other roles' files,
// daemon/aa_config.h). INVALID_ARGUMENT with the file, line and column of a syntax error.
absl::StatusOr<nlohmann::json> ParseConfigFile(const std::string& path, const std::string& text);

// Applies the ext `[attestation]` table (keys tee, tpm_tcti, tpm_ak_handle, tsm_report_root, imds_url,
// init_data_path) to `out`; unknown keys add warnings. INVALID_ARGUMENT naming a malformed key.
absl::Status ApplyAttestationTable(const nlohmann::json& table, AttestationConfig& out,
                                   std::vector<std::string>& warnings);

// Parses "<kbc>::<url>" (AA_KBC_PARAMS). The URL may itself contain "::" (IPv6): only the first
// "::" separates; an empty URL is absent. INVALID_ARGUMENT when there is no "::" or the name is empty.
absl::StatusOr<KbcConfig> ParseKbcParams(std::string_view params);

}  // namespace cdh

#endif  // CDH_DAEMON_CONFIG_H_
