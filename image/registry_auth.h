// Registry credentials: the containers-auth.json / docker config file fetched from
// `authenticated_registry_credentials_uri` (image-pull spec §8; containers/image
// pkg/docker/config) and the lookup rules upstream's image-rs applies.
//
//   {"auths":{"<key>":{"auth":"<base64(user:password)>"}, …}}
//
// Security property: passwords live in SecretBytes from parsing to the Authorization header;
// neither usernames nor passwords ever appear in a status message.
#ifndef CDH_IMAGE_REGISTRY_AUTH_H_
#define CDH_IMAGE_REGISTRY_AUTH_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/secret_bytes.h"
#include "image/reference.h"

namespace cdh::image {

// One user's credentials for a registry. Move-only (the password is a secret); not thread-safe.
struct RegistryCredentials {
  std::string username;
  SecretBytes password;
  RegistryCredentials Clone() const { return RegistryCredentials{username, password.Clone()}; }
};

// The parsed auth file. Copying is deleted (secrets); thread-safe for concurrent const use.
class RegistryAuthFile {
 public:
  // INVALID_ARGUMENT "Invalid registry auth file: …" when `json` is not an object with an `auths`
  // object whose every entry has a base64 `auth` holding "user:password" (split at the first
  // ':', newlines trimmed from both ends of the password). The message names the entry's key,
  // never its value.
  static absl::StatusOr<std::unique_ptr<RegistryAuthFile>> Parse(const SecretBytes& json);

  // The credentials for `ref` (spec §8): exact keys `registry/repo`, each parent namespace, then
  // `registry`; else keys normalised to a host (scheme and path removed; docker.io,
  // index.docker.io and registry-1.docker.io equivalent); nullopt = anonymous.
  std::optional<RegistryCredentials> Lookup(const ImageReference& ref) const;

  size_t size() const { return entries_.size(); }

 private:
  RegistryAuthFile() = default;
  std::map<std::string, RegistryCredentials> entries_;
};

}  // namespace cdh::image

#endif  // CDH_IMAGE_REGISTRY_AUTH_H_
