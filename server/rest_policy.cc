#include "server/rest_policy.h"

#include "common/json.h"
#include "common/strings.h"

namespace cdh {
namespace {

using nlohmann::json;

bool RouteKindKnown(std::string_view pattern) {
  for (std::string_view kind : {"resource:", "aa:token", "aa:evidence", "aa:additional-evidence", "aa:aael"}) {
    if (pattern.starts_with(kind)) return true;
    // A prefix pattern may stop inside the kind ("aa:*").
    if (pattern.ends_with('*') && kind.starts_with(pattern.substr(0, pattern.size() - 1))) return true;
  }
  return false;
}

bool Matches(std::string_view pattern, std::string_view route) {
  if (pattern.ends_with('*')) return route.starts_with(pattern.substr(0, pattern.size() - 1));
  return pattern == route;
}

absl::StatusOr<bool> Effect(const json& table, std::string_view key, std::string_view where, bool fallback) {
  auto it = table.find(key);
  if (it == table.end()) return fallback;
  if (it->is_string() && *it == "allow") return true;
  if (it->is_string() && *it == "deny") return false;
  return absl::InvalidArgumentError(StrCat("config key `", where, "` must be \"allow\" or \"deny\""));
}

}  // namespace

absl::StatusOr<RestPolicy> RestPolicy::Parse(const json& table) {
  if (!table.is_object()) return absl::InvalidArgumentError("config key `rest_api` must be a table");
  RestPolicy policy;
  auto d = Effect(table, "default", "rest_api.default", true);
  if (!d.ok()) return d.status();
  policy.default_allow_ = *d;
  auto rules = table.find("rules");
  if (rules == table.end()) return policy;
  if (!rules->is_array()) return absl::InvalidArgumentError("config key `rest_api.rules` must be an array of tables");
  for (const json& r : *rules) {
    if (!r.is_object()) return absl::InvalidArgumentError("config key `rest_api.rules` must be an array of tables");
    Rule rule;
    auto name = r.find("name");
    if (name == r.end() || !name->is_string() || name->get<std::string>().empty()) {
      return absl::InvalidArgumentError("config key `rest_api.rules.name` is required (a non-empty string)");
    }
    rule.name = name->get<std::string>();
    if (auto c = r.find("cgroup"); c != r.end()) {
      if (!c->is_string() || c->get<std::string>().empty()) {
        return absl::InvalidArgumentError(
            StrCat("rest_api rule `", rule.name, "`: `cgroup` must be a non-empty string"));
      }
      rule.cgroup = c->get<std::string>();
    }
    auto routes = r.find("routes");
    if (routes == r.end() || !routes->is_array() || routes->empty()) {
      return absl::InvalidArgumentError(StrCat("rest_api rule `", rule.name, "`: `routes` must be a non-empty array"));
    }
    for (const json& p : *routes) {
      if (!p.is_string() || !RouteKindKnown(p.get<std::string>())) {
        return absl::InvalidArgumentError(StrCat("rest_api rule `", rule.name, "`: route ", Sanitize(DumpJson(p)),
                                                 " is not resource:<path>, aa:token, aa:evidence, "
                                                 "aa:additional-evidence or aa:aael"));
      }
      rule.routes.push_back(p.get<std::string>());
    }
    auto effect = Effect(r, "effect", "rest_api.rules.effect", true);
    if (!effect.ok()) return effect.status();
    rule.allow = *effect;
    policy.rules_.push_back(std::move(rule));
  }
  return policy;
}

std::optional<std::string> RestPolicy::Refusal(std::string_view route,
                                               const std::optional<std::string>& caller_cgroup) const {
  for (const Rule& rule : rules_) {
    // An unidentified caller is not known to be outside a rule's cgroup: it matches the deny
    // rules that name one (fail closed) and none of the allow rules.
    const bool in_cgroup =
        !rule.cgroup.has_value() ||
        (caller_cgroup.has_value() ? caller_cgroup->find(*rule.cgroup) != std::string::npos : !rule.allow);
    if (!in_cgroup) continue;
    for (const std::string& pattern : rule.routes) {
      if (Matches(pattern, route)) return rule.allow ? std::nullopt : std::optional<std::string>(rule.name);
    }
  }
  return default_allow_ ? std::nullopt : std::optional<std::string>("default");
}

bool RestPolicy::NeedsCallerCgroup() const {
  for (const Rule& rule : rules_) {
    if (rule.cgroup.has_value()) return true;
  }
  return false;
}

}  // namespace cdh
