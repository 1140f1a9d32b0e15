// RegistryConfig: the `[image] registry_config` / `registry_configuration_uri` content, the
// subset of containers-registries.conf(5) that image-rs reads (image-pull spec §2.2;
// guest-components image-rs/src/registry/mod.rs), and the client factory that applies it.
//
// Keys: `unqualified-search-registries` (default ["docker.io"]); `[[registry]]` entries with
// `prefix`, `location`, `insecure`, `blocked` and `[[registry.mirror]]` entries (`location`,
// `insecure`). An empty `prefix` takes `location`; a `*.domain` prefix needs a `location`.
//
// For one requested reference, SourcesFor lists the places to pull it from, in upstream's order:
//  1. A short name (`busybox`, `foo/bar`: no registry written) is tried on every unqualified-search
//     registry in turn (`library/` dropped for registries other than docker.io); any other
//     reference as written.
//  2. Each of those is matched against the `[[registry]]` prefixes: the longest prefix wins; the
//     match is anchored at the start and must end at the end of the reference or at ':', '/' or '@'
//     (upstream searches anywhere in the string: a bug); a `*.domain` prefix matches a registry
//     whose host name ends in `.domain`, with any port, and the whole `host[:port]` is replaced. No match: the
//     reference itself, over HTTPS. A `blocked` match: nothing. Otherwise every mirror (mirror location + the rest of
//     the reference), then the entry's location + the rest (a remap when `location` differs from the prefix).
//  3. `insecure = true` means plain HTTP for that location and nothing else: no certificate
//     leniency, no HTTPS-to-HTTP fallback. Deviation: an entry with a prefix and no `location`
//     keeps its `insecure` (containers/image: the location defaults to the prefix); image-rs drops it.
//
// Differences from containers/image that image-rs shares: mirrors are tried for tags and digests
// alike (no `pull-from-mirror`), no `aliases`, no `short-name-mode` prompting.
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

struct RegistryMirror {
  std::string location;  // "host[:port][/namespace…]"
  bool insecure = false;
};

struct RegistryEntry {
  std::string prefix;    // as configured; FromJson fills in `location` when none was given
  std::string location;  // empty: the prefix itself
  bool insecure = false;
  bool blocked = false;
  std::vector<RegistryMirror> mirrors;
};

// Copyable value type; thread-compatible (immutable once parsed).
struct RegistryConfig {
  std::vector<std::string> unqualified_search_registries = {"docker.io"};
  std::vector<RegistryEntry> registries;

  // The entry whose prefix matches `reference` (an ImageReference::String()) best, or null;
  // `*matched` receives the length of the matched part of `reference`.
  const RegistryEntry* Match(std::string_view reference, size_t* matched = nullptr) const;

  // The locations to pull `requested` from, in order (see the file comment).
  // PERMISSION_DENIED "failed to compose a legal image reference with given registry configuration:
  // … is blocked by registry rule" when every location is blocked; INVALID_ARGUMENT (same prefix)
  // when a mirror, remap or search registry composes a reference that does not parse.
  absl::StatusOr<std::vector<PullSource>> SourcesFor(const ImageReference& requested) const;

  // From the registries.conf content as a JSON object (TOML converted, or the inline
  // [image.registry_config] table): INVALID_ARGUMENT "Malwared registry configuration: …" (upstream's
  // wording) for wrong types, an entry with neither prefix nor location, a wildcard prefix without
  // a location, or a mirror without a location. Unknown keys are ignored, as upstream.
  static absl::StatusOr<RegistryConfig> FromJson(const nlohmann::json& doc);
};

// RegistryClientFactory over OciRegistryClient: one client per location (tokens reused across
// pulls), plain HTTP for `insecure` locations, credentials from the auth file looked up with the
// location's reference (a mirror's credentials, not the requested registry's: image-pull spec §8).
// Thread-safe; neither copyable nor movable.
class DefaultRegistryClientFactory : public RegistryClientFactory {
 public:
  // `http` must outlive the factory; `auth` may be null (anonymous everywhere).
  DefaultRegistryClientFactory(http::HttpClient& http, RegistryConfig config, std::unique_ptr<RegistryAuthFile> auth)
      : http_(http), config_(std::move(config)), auth_(std::move(auth)) {}
  absl::StatusOr<std::vector<PullSource>> SourcesFor(const ImageReference& requested) override {
    return config_.SourcesFor(requested);
  }
  absl::StatusOr<std::shared_ptr<RegistryClient>> ClientFor(const PullSource& source) override;

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
