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

absl::StatusOr<std::shared_ptr<RegistryClient>> DefaultRegistryClientFactory::ClientFor(const ImageReference& ref) {
  const RegistryEntry* entry = config_.Match(ref);
  if (entry != nullptr && entry->blocked) {
    return absl::PermissionDeniedError(
        StrCat("failed to compose a legal image reference with given registry configuration: ",
               Sanitize(ref.String()), " is blocked"));
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
