// LookasideConfig: where simple-signing (GPG) signatures of an image live, from a
// containers-registries.d configuration (containers/image docs/containers-registries.d.5.md,
// docker/registries_d.go):
//
//   default-docker:
//     lookaside: file:///var/lib/containers/sigstore
//   docker:
//     registry.example.com/ns:
//       lookaside: https://sigs.example.com/ns
//
// Read URLs come from `lookaside`, else the deprecated `sigstore` (the only key image-rs reads);
// `lookaside-staging`/`sigstore-staging` (write locations) are accepted and ignored, as is
// `use-sigstore-attachments`. The namespace is chosen like policy scopes: the full reference,
// then the repository and each parent namespace, then `default-docker`.
// Signature N (from 1) of manifest digest `<algo>:<hex>` is at
// `<base>/<repository path without the registry>@<algo>=<hex>/signature-<N>`.
//
// Copyable value type; thread-compatible (immutable after Parse).
#ifndef CDH_IMAGE_POLICY_LOOKASIDE_CONFIG_H_
#define CDH_IMAGE_POLICY_LOOKASIDE_CONFIG_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "image/digest.h"
#include "image/reference.h"

namespace cdh::image {

class LookasideConfig {
 public:
  // INVALID_ARGUMENT "invalid sigstore config: …" for YAML that does not parse, a member of the
  // wrong shape, or an unknown key; an empty text gives an empty configuration.
  static absl::StatusOr<LookasideConfig> Parse(std::string_view yaml);

  // The base URL for `image`, or nullopt when no namespace and no default applies.
  std::optional<std::string> BaseUrlFor(const ImageReference& image) const;
  // `<base>/<repository path>@<algo>=<hex>/signature-<index>` (index from 1).
  static std::string SignatureUrl(std::string_view base, const ImageReference& image, const Digest& digest, int index);

  bool empty() const { return namespaces_.empty() && !default_.has_value(); }

 private:
  std::map<std::string, std::string> namespaces_;  // namespace → base URL
  std::optional<std::string> default_;
};

}  // namespace cdh::image

#endif  // CDH_IMAGE_POLICY_LOOKASIDE_CONFIG_H_
