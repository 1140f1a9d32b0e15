#include "daemon/config.h"

#include <algorithm>

#include <toml++/toml.h>

#include "common/json.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "resources/resource_uri.h"

namespace cdh {
namespace {

using nlohmann::json;

// TOML -> JSON, so that both file formats go through one validator.
json TomlToJson(const toml::node& node) {
  if (auto* t = node.as_table()) {
    json obj = json::object();
    for (auto&& [k, v] : *t) obj[std::string(k.str())] = TomlToJson(v);
    return obj;
  }
  if (auto* a = node.as_array()) {
    json arr = json::array();
    for (auto&& v : *a) arr.push_back(TomlToJson(v));
    return arr;
  }
  if (auto* s = node.as_string()) return s->get();
  if (auto* i = node.as_integer()) return i->get();
  if (auto* f = node.as_floating_point()) return f->get();
  if (auto* b = node.as_boolean()) return b->get();
  // Dates and times: no key of ours accepts them; a marker makes the type check fail clearly.
  return json::array({"<TOML date/time>"});
}

absl::StatusOr<json> ParseFile(const std::string& path, const std::string& text) {
  if (path.ends_with(".json")) {
    auto j = ParseJson(text, StrCat("config file ", path));
    if (!j.ok()) return j.status();
    return *j;
  }
  if (!path.ends_with(".toml")) {
    return absl::InvalidArgumentError(StrCat("config file ", path, ": unsupported extension (use .toml or .json)"));
  }
  try {
    toml::table table = toml::parse(text, path);
    return TomlToJson(table);
  } catch (const toml::parse_error& e) {
    const auto& src = e.source();
    return absl::InvalidArgumentError(StrCat("config file ", path, ":", static_cast<int64_t>(src.begin.line), ":",
                                             static_cast<int64_t>(src.begin.column), ": ",
                                             std::string(e.description())));
  }
}

class Reader {
 public:
  explicit Reader(std::vector<std::string>& warnings) : warnings_(warnings) {}

  absl::Status String(const json& obj, const char* key, const std::string& name, std::string& out) {
    auto it = obj.find(key);
    if (it == obj.end()) return absl::OkStatus();
    if (!it->is_string()) return absl::InvalidArgumentError(StrCat("config key `", name, "` must be a string"));
    out = it->get<std::string>();
    return absl::OkStatus();
  }
  absl::Status OptionalString(const json& obj, const char* key, const std::string& name,
                              std::optional<std::string>& out) {
    if (obj.find(key) == obj.end()) return absl::OkStatus();
    std::string value;
    CDH_RETURN_IF_ERROR(String(obj, key, name, value));
    out = std::move(value);
    return absl::OkStatus();
  }
  // As OptionalString, with "" meaning absent (the file's way of asking for the default).
  absl::Status NonEmptyString(const json& obj, const char* key, const std::string& name,
                              std::optional<std::string>& out) {
    CDH_RETURN_IF_ERROR(OptionalString(obj, key, name, out));
    if (out.has_value() && out->empty()) out = std::nullopt;
    return absl::OkStatus();
  }
  absl::Status Bool(const json& obj, const char* key, const std::string& name, bool& out) {
    auto it = obj.find(key);
    if (it == obj.end()) return absl::OkStatus();
    if (!it->is_boolean()) {
      return absl::InvalidArgumentError(StrCat("config key `", name, "` must be a boolean (true or false)"));
    }
    out = it->get<bool>();
    return absl::OkStatus();
  }
  absl::StatusOr<const json*> Table(const json& obj, const char* key) {
    auto it = obj.find(key);
    if (it == obj.end()) return nullptr;
    if (!it->is_object()) return absl::InvalidArgumentError(StrCat("config key `", key, "` must be a table"));
    return &*it;
  }
  void WarnUnknown(const json& obj, std::initializer_list<const char*> known, const std::string& prefix) {
    for (auto it = obj.begin(); it != obj.end(); ++it) {
      bool found = false;
      for (const char* k : known) found |= it.key() == k;
      if (!found) warnings_.push_back(StrCat("unknown config key `", prefix, it.key(), "` ignored"));
    }
  }

 private:
  std::vector<std::string>& warnings_;
};

// The one mapping of log level names (upstream's, as RUST_LOG spells them) to spdlog's levels.
std::optional<spdlog::level::level_enum> ParseLogLevel(std::string_view name) {
  static constexpr std::pair<std::string_view, spdlog::level::level_enum> kLevels[] = {
      {"trace", spdlog::level::trace}, {"debug", spdlog::level::debug}, {"info", spdlog::level::info},
      {"warn", spdlog::level::warn},   {"error", spdlog::level::err},   {"off", spdlog::level::off}};
  std::string lower = AsciiToLower(name);
  for (const auto& [n, level] : kLevels) {
    if (lower == n) return level;
  }
  return std::nullopt;
}

absl::StatusOr<UnixSocketAddress> SocketKey(std::string_view address, std::string_view key) {
  auto parsed = UnixSocketAddress::Parse(address);
  if (!parsed.ok()) return Annotate(parsed.status(), StrCat("config key `", key, "`"));
  return parsed;
}

// `source` names where the credential came from, for the message.
absl::Status CheckCredentialPath(const std::string& path, const std::string& credentials_dir, std::string_view source) {
  if (!path.starts_with("/") || !path.starts_with(credentials_dir + "/")) {
    return absl::InvalidArgumentError(StrCat(source, " (", Sanitize(path), ") must be under ", credentials_dir, "/"));
  }
  for (std::string_view part : StrSplit(path, '/')) {
    if (part == "." || part == "..") {
      return absl::InvalidArgumentError(StrCat(source, " (", Sanitize(path), ") must not contain `.` or `..`"));
    }
  }
  return absl::OkStatus();
}

// [image] (image-pull spec §2.1). The pre-2025 string form of `image_pull_proxy` and
// `skip_proxy_ips` are accepted as https_proxy / no_proxy with a warning (upstream now fails on
// the first and silently ignores the second).
absl::Status ApplyImage(const json& image, Reader& r, CdhConfig& cfg) {
  ImagePullConfig& c = cfg.image;
  r.WarnUnknown(
      image,
      {"work_dir", "image_security_policy_uri", "image_security_policy", "sigstore_config_uri", "sigstore_config",
       "authenticated_registry_credentials_uri", "registry_configuration_uri", "registry_config",
       "max_concurrent_layer_downloads_per_image", "image_pull_proxy", "skip_proxy_ips", "extra_root_certificates"},
      "image.");
  CDH_RETURN_IF_ERROR(r.String(image, "work_dir", "image.work_dir", c.work_dir));
  if (!c.work_dir.starts_with("/"))
    return absl::InvalidArgumentError("config key `image.work_dir` must be an absolute path");
  CDH_RETURN_IF_ERROR(
      r.String(image, "image_security_policy_uri", "image.image_security_policy_uri", c.image_security_policy_uri));
  if (image.contains("image_security_policy")) {
    std::string v;
    CDH_RETURN_IF_ERROR(r.String(image, "image_security_policy", "image.image_security_policy", v));
    c.image_security_policy = v;
  }
  CDH_RETURN_IF_ERROR(r.String(image, "sigstore_config_uri", "image.sigstore_config_uri", c.sigstore_config_uri));
  if (image.contains("sigstore_config")) {
    std::string v;
    CDH_RETURN_IF_ERROR(r.String(image, "sigstore_config", "image.sigstore_config", v));
    c.sigstore_config = v;
  }
  CDH_RETURN_IF_ERROR(r.String(image, "authenticated_registry_credentials_uri",
                               "image.authenticated_registry_credentials_uri",
                               c.authenticated_registry_credentials_uri));
  CDH_RETURN_IF_ERROR(
      r.String(image, "registry_configuration_uri", "image.registry_configuration_uri", c.registry_configuration_uri));
  CDH_ASSIGN_OR_RETURN(const json* registry_config, r.Table(image, "registry_config"));
  if (registry_config != nullptr) c.registry_config_json = DumpJson(*registry_config);
  if (auto it = image.find("max_concurrent_layer_downloads_per_image"); it != image.end()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 0 || it->get<int64_t>() > 1024) {
      return absl::InvalidArgumentError(
          "config key `image.max_concurrent_layer_downloads_per_image` must be an integer from 0 to 1024");
    }
    c.max_concurrent_layer_downloads_per_image = static_cast<int>(it->get<int64_t>());
  }
  if (auto it = image.find("image_pull_proxy"); it != image.end()) {
    if (it->is_string()) {
      c.https_proxy = it->get<std::string>();
      cfg.warnings.push_back(
          "config key `image.image_pull_proxy` as a string is the pre-2025 form; read as "
          "[image.image_pull_proxy] https_proxy");
    } else if (it->is_object()) {
      r.WarnUnknown(*it, {"https_proxy", "http_proxy", "no_proxy"}, "image.image_pull_proxy.");
      CDH_RETURN_IF_ERROR(r.String(*it, "https_proxy", "image.image_pull_proxy.https_proxy", c.https_proxy));
      CDH_RETURN_IF_ERROR(r.String(*it, "http_proxy", "image.image_pull_proxy.http_proxy", c.http_proxy));
      CDH_RETURN_IF_ERROR(r.String(*it, "no_proxy", "image.image_pull_proxy.no_proxy", c.no_proxy));
    } else {
      return absl::InvalidArgumentError("config key `image.image_pull_proxy` must be a table");
    }
  }
  if (image.contains("skip_proxy_ips")) {
    std::string v;
    CDH_RETURN_IF_ERROR(r.String(image, "skip_proxy_ips", "image.skip_proxy_ips", v));
    if (c.no_proxy.empty()) c.no_proxy = v;
    cfg.warnings.push_back(
        "config key `image.skip_proxy_ips` is the pre-2025 form; read as "
        "[image.image_pull_proxy] no_proxy");
  }
  if (auto it = image.find("extra_root_certificates"); it != image.end()) {
    if (!it->is_array()) {
      return absl::InvalidArgumentError("config key `image.extra_root_certificates` must be an array of PEM strings");
    }
    for (const json& pem : *it) {
      if (!pem.is_string()) {
        return absl::InvalidArgumentError("config key `image.extra_root_certificates` must be an array of PEM strings");
      }
      c.extra_root_certificates.push_back(pem.get<std::string>());
    }
  }
  return absl::OkStatus();
}

absl::Status ApplyFile(const json& doc, CdhConfig& cfg) {
  if (!doc.is_object()) return absl::InvalidArgumentError("config file must be a table of keys");
  Reader r(cfg.warnings);
  r.WarnUnknown(doc,
                {"socket", "grpc_socket", "skip_sealed_secret_verification", "kbc", "credentials", "log", "aa", "image",
                 "attestation", "paths", "offline_fs_kbc", "secure_mount", "rest_api"},
                "");
  std::optional<std::string> socket, grpc_socket;
  CDH_RETURN_IF_ERROR(r.OptionalString(doc, "socket", "socket", socket));
  CDH_RETURN_IF_ERROR(r.OptionalString(doc, "grpc_socket", "grpc_socket", grpc_socket));

  CDH_RETURN_IF_ERROR(r.Bool(doc, "skip_sealed_secret_verification", "skip_sealed_secret_verification",
                             cfg.skip_sealed_secret_verification));

  CDH_ASSIGN_OR_RETURN(const json* kbc, r.Table(doc, "kbc"));
  if (kbc == nullptr)
    return absl::InvalidArgumentError("config file has no [kbc] table (name = \"cc_kbc\" or \"offline_fs_kbc\")");
  r.WarnUnknown(*kbc, {"name", "url", "kbs_cert"}, "kbc.");
  if (!kbc->contains("name")) return absl::InvalidArgumentError("config key `kbc.name` is required");
  CDH_RETURN_IF_ERROR(r.String(*kbc, "name", "kbc.name", cfg.kbc.name));
  CDH_RETURN_IF_ERROR(r.NonEmptyString(*kbc, "url", "kbc.url", cfg.kbc.url));
  CDH_RETURN_IF_ERROR(r.OptionalString(*kbc, "kbs_cert", "kbc.kbs_cert", cfg.kbc.kbs_cert));

  if (auto it = doc.find("credentials"); it != doc.end()) {
    if (!it->is_array()) return absl::InvalidArgumentError("config key `credentials` must be an array of tables");
    for (const json& c : *it) {
      if (!c.is_object()) return absl::InvalidArgumentError("config key `credentials` must be an array of tables");
      r.WarnUnknown(c, {"resource_uri", "path"}, "credentials.");
      if (!c.contains("resource_uri") || !c.contains("path")) {
        return absl::InvalidArgumentError("config [[credentials]] needs both `resource_uri` and `path`");
      }
      CredentialConfig cred;
      CDH_RETURN_IF_ERROR(r.String(c, "resource_uri", "credentials.resource_uri", cred.resource_uri));
      CDH_RETURN_IF_ERROR(r.String(c, "path", "credentials.path", cred.path));
      cfg.credentials.push_back(std::move(cred));
    }
  }

  CDH_ASSIGN_OR_RETURN(const json* log, r.Table(doc, "log"));
  if (log != nullptr) {
    r.WarnUnknown(*log, {"level"}, "log.");
    std::optional<std::string> level;
    CDH_RETURN_IF_ERROR(r.OptionalString(*log, "level", "log.level", level));
    if (level.has_value()) {
      std::optional<spdlog::level::level_enum> parsed = ParseLogLevel(*level);
      if (!parsed.has_value()) {
        return absl::InvalidArgumentError("config key `log.level` must be one of trace, debug, info, warn, error, off");
      }
      cfg.log_level = *parsed;
    }
  }
  CDH_ASSIGN_OR_RETURN(const json* aa, r.Table(doc, "aa"));
  if (aa != nullptr) {
    std::string ignored;
    CDH_RETURN_IF_ERROR(r.String(*aa, "aa_socket", "aa.aa_socket", ignored));
    cfg.warnings.push_back(
        "config table [aa] is accepted but not used: this data hub attests itself, without an attestation agent");
  }
  CDH_ASSIGN_OR_RETURN(const json* image, r.Table(doc, "image"));
  if (image != nullptr) CDH_RETURN_IF_ERROR(ApplyImage(*image, r, cfg));
  CDH_ASSIGN_OR_RETURN(const json* att, r.Table(doc, "attestation"));
  if (att != nullptr) CDH_RETURN_IF_ERROR(ApplyAttestationTable(*att, cfg.attestation, cfg.warnings));
  CDH_ASSIGN_OR_RETURN(const json* rest_api, r.Table(doc, "rest_api"));
  if (rest_api != nullptr) {
    CDH_ASSIGN_OR_RETURN(cfg.rest_policy, RestPolicy::Parse(*rest_api));
  }
  CDH_ASSIGN_OR_RETURN(const json* paths, r.Table(doc, "paths"));
  if (paths != nullptr) {
    r.WarnUnknown(*paths, {"base_dir"}, "paths.");
    CDH_RETURN_IF_ERROR(r.String(*paths, "base_dir", "paths.base_dir", cfg.base_dir));
  }
  // The sockets are parsed last, so that a missing [kbc] is reported first (as before).
  if (socket.has_value()) {
    CDH_ASSIGN_OR_RETURN(cfg.socket, SocketKey(*socket, "socket"));
  }
  if (grpc_socket.has_value() && grpc_socket->empty()) {
    cfg.grpc_socket = std::nullopt;
  } else if (grpc_socket.has_value()) {
    CDH_ASSIGN_OR_RETURN(cfg.grpc_socket, SocketKey(*grpc_socket, "grpc_socket"));
  }
  CDH_ASSIGN_OR_RETURN(const json* secure_mount, r.Table(doc, "secure_mount"));
  if (secure_mount != nullptr) {
    r.WarnUnknown(*secure_mount, {"data_path"}, "secure_mount.");
    std::string choice = "auto";
    CDH_RETURN_IF_ERROR(r.String(*secure_mount, "data_path", "secure_mount.data_path", choice));
    if (choice == "auto") {
      cfg.secure_mount_data_path = DataPathChoice::kAuto;
    } else if (choice == "kernel") {
      cfg.secure_mount_data_path = DataPathChoice::kKernel;
    } else if (choice == "userspace") {
      cfg.secure_mount_data_path = DataPathChoice::kUserspace;
    } else {
      return absl::InvalidArgumentError(StrCat("config key `secure_mount.data_path`: unknown value `",
                                               Sanitize(choice, 32), "` (expected auto, kernel or userspace)"));
    }
  }
  CDH_ASSIGN_OR_RETURN(const json* offline, r.Table(doc, "offline_fs_kbc"));
  if (offline != nullptr) {
    r.WarnUnknown(*offline, {"resource_files"}, "offline_fs_kbc.");
    if (auto it = offline->find("resource_files"); it != offline->end()) {
      if (!it->is_array()) {
        return absl::InvalidArgumentError("config key `offline_fs_kbc.resource_files` must be an array of paths");
      }
      cfg.offline_fs_files.clear();
      for (const json& f : *it) {
        if (!f.is_string()) {
          return absl::InvalidArgumentError("config key `offline_fs_kbc.resource_files` must be an array of paths");
        }
        cfg.offline_fs_files.push_back(f.get<std::string>());
      }
    }
  }
  return absl::OkStatus();
}

// Value of `key=` in the kernel command line, for each occurrence.
std::vector<std::string> CmdlineValues(const std::string& cmdline, std::string_view key) {
  std::vector<std::string> out;
  std::string prefix = StrCat(key, "=");
  size_t i = 0;
  while (i < cmdline.size()) {
    while (i < cmdline.size() && (cmdline[i] == ' ' || cmdline[i] == '\n' || cmdline[i] == '\t')) ++i;
    size_t j = i;
    while (j < cmdline.size() && cmdline[j] != ' ' && cmdline[j] != '\n' && cmdline[j] != '\t') ++j;
    std::string_view item(cmdline.data() + i, j - i);
    if (item.starts_with(prefix)) out.emplace_back(item.substr(prefix.size()));
    i = j;
  }
  return out;
}

}  // namespace

absl::Status ApplyAttestationTable(const json& table, AttestationConfig& out, std::vector<std::string>& warnings) {
  Reader r(warnings);
  {
    r.WarnUnknown(table, {"tee", "tpm_tcti", "tpm_ak_handle", "tsm_report_root", "imds_url", "init_data_path"},
                  "attestation.");
    AttestationConfig& a = out;
    CDH_RETURN_IF_ERROR(r.NonEmptyString(table, "tee", "attestation.tee", a.tee));  // "" = detect
    // Each path key replaces attestation's default when given and not "".
    for (auto [key, field] :
         {std::pair{"tpm_tcti", &a.paths.tpm_tcti}, std::pair{"tsm_report_root", &a.paths.tsm_report_root},
          std::pair{"imds_url", &a.paths.imds_url}, std::pair{"init_data_path", &a.init_data_path}}) {
      std::optional<std::string> value;
      CDH_RETURN_IF_ERROR(r.NonEmptyString(table, key, StrCat("attestation.", key), value));
      if (value.has_value()) *field = std::move(*value);
    }
    std::optional<std::string> handle;
    CDH_RETURN_IF_ERROR(r.NonEmptyString(table, "tpm_ak_handle", "attestation.tpm_ak_handle", handle));
    if (handle.has_value()) {
      std::string_view h = *handle;
      if (h.starts_with("0x") || h.starts_with("0X")) h.remove_prefix(2);
      bool ok = !h.empty() && h.size() <= 8 && h.find_first_not_of("0123456789abcdefABCDEF") == std::string_view::npos;
      if (!ok)
        return absl::InvalidArgumentError(
            "config key `attestation.tpm_ak_handle` must be a hex handle like \"0x81010002\"");
      a.paths.tpm_ak_handle = static_cast<uint32_t>(std::stoul(std::string(h), nullptr, 16));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<json> ParseConfigFile(const std::string& path, const std::string& text) { return ParseFile(path, text); }

absl::StatusOr<KbcConfig> ParseKbcParams(std::string_view params) {
  size_t sep = params.find("::");
  if (sep == std::string_view::npos || sep == 0) {
    return absl::InvalidArgumentError(
        "kbc parameters must be `<kbc name>::<url>`, e.g. `cc_kbc::http://10.0.0.1:8080`");
  }
  KbcConfig kbc;
  kbc.name = std::string(params.substr(0, sep));
  if (sep + 2 < params.size()) kbc.url = std::string(params.substr(sep + 2));
  return kbc;
}

UnixSocketAddress CdhConfig::DefaultTtrpcSocket() { return *UnixSocketAddress::Parse(kDefaultTtrpcSocket); }
UnixSocketAddress CdhConfig::DefaultGrpcSocket() { return *UnixSocketAddress::Parse(kDefaultGrpcSocket); }

absl::StatusOr<CdhConfig> LoadConfig(const ConfigSources& sources, const KnownPlugins& plugins) {
  CdhConfig cfg;
  auto env = [&](const char* name) -> std::optional<std::string> {
    auto it = sources.env.find(name);
    if (it == sources.env.end()) return std::nullopt;
    return it->second;
  };

  if (sources.file_path.has_value()) {
    CDH_ASSIGN_OR_RETURN(json doc, ParseFile(*sources.file_path, sources.file_text.value_or("")));
    auto applied = ApplyFile(doc, cfg);
    if (!applied.ok()) return Annotate(applied, StrCat("config file ", *sources.file_path));
    if (auto aa = env("AA_KBC_PARAMS"); aa.has_value()) {
      auto parsed = ParseKbcParams(*aa);
      if (!parsed.ok() || parsed->name != cfg.kbc.name || parsed->url != cfg.kbc.url) {
        cfg.warnings.push_back("AA_KBC_PARAMS is set but the config file's [kbc] is used");
      }
    }
  } else if (auto aa = env("AA_KBC_PARAMS"); aa.has_value()) {
    auto parsed = ParseKbcParams(*aa);
    if (!parsed.ok()) return Annotate(parsed.status(), "environment AA_KBC_PARAMS");
    cfg.kbc = *parsed;
  } else if (auto vals = CmdlineValues(sources.kernel_cmdline, "agent.aa_kbc_params"); !vals.empty()) {
    auto parsed = ParseKbcParams(vals.back());
    if (!parsed.ok()) return Annotate(parsed.status(), "kernel command line agent.aa_kbc_params");
    cfg.kbc = *parsed;
  }

  const size_t file_credentials = cfg.credentials.size();
  for (const std::string& list : CmdlineValues(sources.kernel_cmdline, "cdh.kbs_resources")) {
    for (std::string_view item : StrSplit(list, ',')) {
      if (item.empty()) continue;
      size_t sep = item.rfind("::");
      if (sep == std::string_view::npos) {
        return absl::InvalidArgumentError(
            "kernel command line cdh.kbs_resources items must be `<resource uri>::<path>`");
      }
      cfg.credentials.push_back({std::string(item.substr(0, sep)), std::string(item.substr(sep + 2))});
    }
  }

  if (cfg.offline_fs_files.empty()) {
    cfg.offline_fs_files = {"/etc/aa-offline_fs_kbc-keys.json", "/etc/aa-offline_fs_kbc-resources.json"};
  }
  if (auto extra = env("OFFLINE_FS_KBC_EXTRA_FILE_PATH"); extra.has_value()) {
    for (std::string_view f : StrSplit(*extra, ',')) {
      if (!f.empty()) cfg.offline_fs_files.emplace_back(f);
    }
  }
  if (auto rust_log = env("RUST_LOG"); rust_log.has_value()) {
    if (std::optional<spdlog::level::level_enum> level = ParseLogLevel(*rust_log); level.has_value()) {
      cfg.log_level = *level;
    } else {
      cfg.warnings.push_back("RUST_LOG is not a plain level (trace|debug|info|warn|error|off) and is ignored");
    }
  }

  // Validation of the effective values.
  auto kbc = plugins.kbcs.find(cfg.kbc.name);
  if (kbc == plugins.kbcs.end()) {
    std::vector<std::string> names;
    for (const auto& [name, traits] : plugins.kbcs) names.push_back(name);
    return absl::InvalidArgumentError(StrCat("config key `kbc.name`: unknown kbc `", Sanitize(cfg.kbc.name, 32),
                                             "` (expected ", StrJoin(names, " or "), ")"));
  }
  if (kbc->second.needs_broker_url) {
    if (!cfg.kbc.url.has_value()) {
      return absl::InvalidArgumentError(
          StrCat("config key `kbc.url` is required for ", cfg.kbc.name, " (e.g. http://10.0.0.1:8080)"));
    }
    if (!cfg.kbc.url->starts_with("http://") && !cfg.kbc.url->starts_with("https://")) {
      return absl::InvalidArgumentError(
          StrCat("config key `kbc.url` must start with http:// or https://, got `", Sanitize(*cfg.kbc.url, 64), "`"));
    }
  }
  if (cfg.kbc.kbs_cert.has_value() && cfg.kbc.url.value_or("").starts_with("http://")) {
    return absl::InvalidArgumentError(
        "config key `kbc.kbs_cert` is set but `kbc.url` is plain http://; use https:// or drop kbs_cert");
  }
  if (!cfg.base_dir.starts_with("/")) {
    return absl::InvalidArgumentError("config key `paths.base_dir` must be an absolute path");
  }
  if (cfg.grpc_socket.has_value() && *cfg.grpc_socket == cfg.socket) {
    return absl::InvalidArgumentError("config keys `socket` and `grpc_socket` must name different sockets");
  }
  if (cfg.attestation.tee.has_value() &&
      std::find(plugins.tees.begin(), plugins.tees.end(), *cfg.attestation.tee) == plugins.tees.end()) {
    return absl::InvalidArgumentError(
        StrCat("config key `attestation.tee` must be one of ", StrJoin(plugins.tees, ", "), " (or absent to detect)"));
  }
  for (size_t i = 0; i < cfg.credentials.size(); ++i) {
    const CredentialConfig& c = cfg.credentials[i];
    const bool from_cmdline = i >= file_credentials;
    auto uri = resources::ResourceUri::Parse(c.resource_uri);
    if (!uri.ok()) {
      return Annotate(uri.status(), from_cmdline ? "kernel command line cdh.kbs_resources: resource URI"
                                                 : "config key `credentials.resource_uri`");
    }
    CDH_RETURN_IF_ERROR(CheckCredentialPath(
        c.path, cfg.CredentialsDir(),
        from_cmdline ? "kernel command line cdh.kbs_resources: path" : "config key `credentials.path`"));
  }
  return cfg;
}

std::string_view DataPathChoiceName(DataPathChoice choice) {
  switch (choice) {
    case DataPathChoice::kKernel:
      return "kernel";
    case DataPathChoice::kUserspace:
      return "userspace";
    case DataPathChoice::kAuto:
      break;
  }
  return "auto";
}

}  // namespace cdh
