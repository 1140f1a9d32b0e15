#include "daemon/aa_config.h"

#include "common/status_macros.h"
#include "common/strings.h"

namespace cdh {
namespace {

using nlohmann::json;

void WarnUnknown(const json& table, std::initializer_list<std::string_view> known, std::string_view prefix,
                 std::vector<std::string>& warnings) {
  for (auto it = table.begin(); it != table.end(); ++it) {
    bool found = false;
    for (std::string_view k : known) found |= it.key() == k;
    if (!found) warnings.push_back(StrCat("unknown config key `", prefix, it.key(), "` ignored"));
  }
}

absl::StatusOr<const json*> Table(const json& obj, std::string_view key, std::string_view name) {
  auto it = obj.find(key);
  if (it == obj.end()) return nullptr;
  if (!it->is_object()) return absl::InvalidArgumentError(StrCat("config key `", name, "` must be a table"));
  return &*it;
}

absl::Status OptionalString(const json& obj, std::string_view key, std::string_view name,
                            std::optional<std::string>& out) {
  auto it = obj.find(key);
  if (it == obj.end()) return absl::OkStatus();
  if (!it->is_string()) return absl::InvalidArgumentError(StrCat("config key `", name, "` must be a string"));
  if (!it->get<std::string>().empty()) out = it->get<std::string>();
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<AaConfig> ParseAaConfig(const std::string& path, const std::string& text) {
  CDH_ASSIGN_OR_RETURN(json doc, ParseConfigFile(path, text));
  if (!doc.is_object()) return absl::InvalidArgumentError("config file must be a table of keys");
  AaConfig cfg;
  WarnUnknown(doc, {"token_configs", "eventlog_config", "log", "attestation"}, "", cfg.warnings);

  CDH_ASSIGN_OR_RETURN(const json* tokens, Table(doc, "token_configs", "token_configs"));
  if (tokens != nullptr) {
    WarnUnknown(*tokens, {"kbs", "coco_as"}, "token_configs.", cfg.warnings);
    if (tokens->contains("coco_as")) {
      cfg.warnings.push_back("config table [token_configs.coco_as] is accepted but not used: not built");
    }
    CDH_ASSIGN_OR_RETURN(const json* kbs, Table(*tokens, "kbs", "token_configs.kbs"));
    if (kbs != nullptr) {
      WarnUnknown(*kbs, {"url", "cert"}, "token_configs.kbs.", cfg.warnings);
      CDH_RETURN_IF_ERROR(OptionalString(*kbs, "url", "token_configs.kbs.url", cfg.kbs_url));
      CDH_RETURN_IF_ERROR(OptionalString(*kbs, "cert", "token_configs.kbs.cert", cfg.kbs_cert));
      if (cfg.kbs_url.has_value() && !cfg.kbs_url->starts_with("http://") && !cfg.kbs_url->starts_with("https://")) {
        return absl::InvalidArgumentError("config key `token_configs.kbs.url` must be an http:// or https:// URL");
      }
    }
  }

  CDH_ASSIGN_OR_RETURN(const json* eventlog, Table(doc, "eventlog_config", "eventlog_config"));
  if (eventlog != nullptr) {
    WarnUnknown(*eventlog, {"enable_eventlog", "init_pcr", "log_path"}, "eventlog_config.", cfg.warnings);
    if (auto it = eventlog->find("enable_eventlog"); it != eventlog->end()) {
      if (!it->is_boolean()) {
        return absl::InvalidArgumentError("config key `eventlog_config.enable_eventlog` must be a boolean");
      }
      cfg.eventlog_enabled = it->get<bool>();
    }
    if (auto it = eventlog->find("init_pcr"); it != eventlog->end()) {
      if (!it->is_number_integer() || it->get<int64_t>() < 0 || it->get<int64_t>() > 23) {
        return absl::InvalidArgumentError("config key `eventlog_config.init_pcr` must be a PCR number 0..23");
      }
      cfg.init_pcr = static_cast<uint64_t>(it->get<int64_t>());
    }
    std::optional<std::string> log_path;
    CDH_RETURN_IF_ERROR(OptionalString(*eventlog, "log_path", "eventlog_config.log_path", log_path));
    if (log_path.has_value()) cfg.eventlog_path = *log_path;
  }

  CDH_ASSIGN_OR_RETURN(const json* log, Table(doc, "log", "log"));
  if (log != nullptr) {
    WarnUnknown(*log, {"level"}, "log.", cfg.warnings);
    std::optional<std::string> level;
    CDH_RETURN_IF_ERROR(OptionalString(*log, "level", "log.level", level));
    if (level.has_value()) {
      spdlog::level::level_enum parsed = spdlog::level::from_str(AsciiToLower(*level));
      if (parsed == spdlog::level::off && AsciiToLower(*level) != "off") {
        return absl::InvalidArgumentError("config key `log.level` must be one of trace, debug, info, warn, error, off");
      }
      cfg.log_level = parsed;
    }
  }

  CDH_ASSIGN_OR_RETURN(const json* att, Table(doc, "attestation", "attestation"));
  if (att != nullptr) CDH_RETURN_IF_ERROR(ApplyAttestationTable(*att, cfg.attestation, cfg.warnings));
  return cfg;
}

}  // namespace cdh
