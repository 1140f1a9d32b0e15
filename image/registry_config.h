// RegistryConfig: the `[image] registry_config` / `registry_configuration_uri` content, a subset of
// containers-registries.conf(5) as image-rs reads it (image-pull spec §2.2), and the client
// factory that applies it.
//
// Supported: `[[registry]]` entries with `prefix` (or `location` when no prefix), `insecure`
// (plain HTTP, nothing else) and `blocked`. The longest matching prefix wins; the match is
// anchored at the start and must end at the end of the reference or at ':', '/' or '@' (upstream
// searches anywhere in the string: a bug). `location` remapping and `[[registry.mirror]]` entries
// are parsed but not applied yet: a configuration using them is refused at startup
// (UNIMPLEMENTED), never silently ignored.
#ifndef CDH_IMAGE_REGISTRY_CONFIG_H_
#define CDH_IMAGE_REGISTRY_CONFIG_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "http/http_client.h"
#include "image/image_puller.h"
#include "image/oci_registry_client.h"
#include "image/registry_auth.h"
#include "nlohmann/json.hpp"

namespace cdh::image {

struct RegistryEntry {
  std::string prefix;
  std::string location;
  bool insecure = false;
  bool blocked = false;
  std::vector<std::string> mirrors;  // mirror locations (not applied, see above)
};

struct RegistryConfig {
  std::vector<RegistryEntry> registries;
  // The entry whose prefix matches `ref` best, or null.
  const RegistryEntry* Match(const ImageReference& ref) const;

  // From the registries.conf content as a JSON object (TOML converted, or the inline
  // [image.registry_config] table): INVALID_ARGUMENT "Malwared registry configuration: …" (upstream's
  // wording) for wrong types or an entry with neither prefix nor location; UNIMPLEMENTED for a
  // location remap (prefix and a different location) or mirrors, which this CDH does not apply.
  static absl::StatusOr<RegistryConfig> FromJson(const nlohmann::json& doc);
};

// RegistryClientFactory over OciRegistryClient: one client per registry (tokens reused across
// pulls), plain HTTP for `insecure` entries, PERMISSION_DENIED for `blocked` ones, credentials
// from the auth file. Thread-safe; neither copyable nor movable.
class DefaultRegistryClientFactory : public RegistryClientFactory {
 public:
  // `http` must outlive the factory; `auth` may be null (anonymous everywhere).
  DefaultRegistryClientFactory(http::HttpClient& http, RegistryConfig config, std::unique_ptr<RegistryAuthFile> auth)
      : http_(http), config_(std::move(config)), auth_(std::move(auth)) {}
  absl::StatusOr<std::shared_ptr<RegistryClient>> ClientFor(const ImageReference& ref) override;

 private:
  http::HttpClient& http_;
  const RegistryConfig config_;
  const std::unique_ptr<RegistryAuthFile> auth_;
  absl::Mutex mu_;
  // Keyed by registry, scheme and the auth-file key that matched.
  std::map<std::string, std::shared_ptr<RegistryClient>> clients_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cdh::image

#endif  // CDH_IMAGE_REGISTRY_CONFIG_H_
