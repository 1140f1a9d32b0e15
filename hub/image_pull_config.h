// ImagePullConfig: the `[image]` table, parsed once by the daemon's configuration loader
// (daemon/config.h) and handed to the hub's image service (hub/image_service.h).
// Copyable value type; thread-compatible.
#ifndef CDH_HUB_IMAGE_PULL_CONFIG_H_
#define CDH_HUB_IMAGE_PULL_CONFIG_H_

#include <optional>
#include <string>
#include <vector>

namespace cdh {

// [image]: upstream's keys and defaults (image-rs ImageConfig; image-pull spec §2.1). `*_uri`
// values are resource URIs: `kbs:///…` (fetched in-process through the daemon's own resource
// provider), `file:///…` or a bare path.
struct ImagePullConfig {
  std::string work_dir = "/run/kata-containers/image";
  std::string image_security_policy_uri;               // wins over image_security_policy
  std::optional<std::string> image_security_policy;    // inline containers-policy.json text
  std::string sigstore_config_uri;                     // wins over sigstore_config
  std::optional<std::string> sigstore_config;          // inline registries.d YAML text
  std::string authenticated_registry_credentials_uri;  // auth.json
  std::string registry_configuration_uri;              // registries.conf-style TOML
  // Inline [image.registry_config], as JSON text; wins over registry_configuration_uri.
  std::optional<std::string> registry_config_json;
  int max_concurrent_layer_downloads_per_image = 3;  // 0 = no limit
  std::string https_proxy;                           // [image.image_pull_proxy]
  std::string http_proxy;
  std::string no_proxy;
  std::vector<std::string> extra_root_certificates;  // PEM texts, added to the system store
};

}  // namespace cdh

#endif  // CDH_HUB_IMAGE_PULL_CONFIG_H_
