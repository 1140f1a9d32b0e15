#include "image/registry_config.h"

#include "common/status_macros.h"
#include "common/strings.h"

namespace cdh::image {

const RegistryEntry* RegistryConfig::Match(const ImageReference& ref) const {
  std::string s = ref.String();
  const RegistryEntry* best = nullptr;
  size_t best_len = 0;
  for (const RegistryEntry& e : registries) {
    const std::string& prefix = e.prefix.empty() ? e.location : e.prefix;
    if (prefix.empty() || !std::string_view(s).starts_with(prefix)) continue;
    if (s.size() > prefix.size()) {
      char next = s[prefix.size()];
      if (next != ':' && next != '/' && next != '@') continue;
    }
    if (prefix.size() > best_len) {
      best = &e;
      best_len = prefix.size();
    }
  }
  return best;
}

absl::StatusOr<RegistryConfig> RegistryConfig::FromJson(const nlohmann::json& doc) {
  auto bad = [](std::string_view why) {
    return absl::InvalidArgumentError(StrCat("Malwared registry configuration: ", why));
  };
  if (!doc.is_object()) return bad("not a table");
  RegistryConfig out;
  auto regs = doc.find("registry");
  if (regs == doc.end()) return out;
  if (!regs->is_array()) return bad("`registry` must be an array of tables");
  for (const auto& r : *regs) {
    if (!r.is_object()) return bad("`registry` must be an array of tables");
    RegistryEntry e;
    for (const char* key : {"prefix", "location"}) {
      auto it = r.find(key);
      if (it == r.end()) continue;
      if (!it->is_string()) return bad(StrCat("`registry.", key, "` must be a string"));
      (std::string_view(key) == "prefix" ? e.prefix : e.location) = it->get<std::string>();
    }
    for (const char* key : {"insecure", "blocked"}) {
      auto it = r.find(key);
      if (it == r.end()) continue;
      if (!it->is_boolean()) return bad(StrCat("`registry.", key, "` must be a boolean"));
      (std::string_view(key) == "insecure" ? e.insecure : e.blocked) = it->get<bool>();
    }
    if (e.prefix.empty() && e.location.empty()) return bad("a [[registry]] entry needs a prefix or a location");
    if (!e.prefix.empty() && !e.location.empty() && e.prefix != e.location) {
      return absl::UnimplementedError(StrCat("registry configuration: remapping `", Sanitize(e.prefix), "` to `",
                                             Sanitize(e.location), "` is not supported by this data hub"));
    }
    if (auto m = r.find("mirror"); m != r.end()) {
      if (!m->is_array()) return bad("`registry.mirror` must be an array of tables");
      if (!m->empty()) {
        return absl::UnimplementedError("registry configuration: mirrors are not supported by this data hub");
      }
    }
    out.registries.push_back(std::move(e));
  }
  return out;
}

absl::StatusOr<std::shared_ptr<RegistryClient>> DefaultRegistryClientFactory::ClientFor(const ImageReference& ref) {
  const RegistryEntry* entry = config_.Match(ref);
  if (entry != nullptr && entry->blocked) {
    return absl::PermissionDeniedError(
        StrCat("failed to compose a legal image reference with given registry configuration: ", Sanitize(ref.String()),
               " is blocked"));
  }
  bool plain_http = entry != nullptr && entry->insecure;
  std::optional<RegistryCredentials> creds;
  if (auth_) creds = auth_->Lookup(ref);
  // Credentials differ per repository only through the auth file's keys; key the cache on the
  // repository when there are credentials, on the registry otherwise.
  std::string key = StrCat(plain_http ? "http://" : "https://", creds ? ref.Name() : ref.registry());
  absl::MutexLock lock(&mu_);
  auto it = clients_.find(key);
  if (it != clients_.end()) return it->second;
  OciRegistryClientOptions options;
  options.registry = ref.registry();
  options.plain_http = plain_http;
  options.credentials = std::move(creds);
  CDH_ASSIGN_OR_RETURN(std::unique_ptr<OciRegistryClient> client, OciRegistryClient::New(http_, std::move(options)));
  std::shared_ptr<RegistryClient> shared = std::move(client);
  clients_[key] = shared;
  return shared;
}

}  // namespace cdh::image
