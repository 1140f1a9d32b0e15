// ImageReference: an image reference parsed and normalised as the distribution/reference grammar
// does it (image-pull spec §3.1; oci-spec-rs src/distribution/reference.rs, containers/image
// docker/reference).
//
//   [host[:port]/]path[:tag][@algo:hex]
//
// - The first path component is a host only if it contains '.' or ':' or is "localhost";
//   otherwise the registry is "docker.io" and the whole string is the path.
// - "index.docker.io" becomes "docker.io"; a one-component path on docker.io gets "library/".
// - Neither tag nor digest: tag "latest". Both: both are kept, the digest decides what is fetched.
// - Path components are lower-case [a-z0-9] separated by '.', '_', "__" or runs of '-';
//   tag [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}; repository (path) at most 255 characters; IPv6 hosts
//   are refused; digests as in image/digest.h.
// Copyable value type; thread-compatible.
#ifndef CDH_IMAGE_REFERENCE_H_
#define CDH_IMAGE_REFERENCE_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "image/digest.h"

namespace cdh::image {

class ImageReference {
 public:
  // INVALID_ARGUMENT (message starting "Illegal image reference") when `text` does not follow the
  // grammar above. The message quotes the input sanitised and shortened.
  static absl::StatusOr<ImageReference> Parse(std::string_view text);

  // "docker.io", "127.0.0.1:5000", "localhost", "quay.io".
  const std::string& registry() const { return registry_; }
  // "library/busybox".
  const std::string& repository() const { return repository_; }
  // "latest" by default; empty only when a digest and no tag was given.
  const std::string& tag() const { return tag_; }
  const std::optional<Digest>& digest() const { return digest_; }

  // "registry/repository", e.g. "docker.io/library/busybox".
  std::string Name() const;
  // The full normalised reference: "docker.io/library/busybox:latest", "host/repo@sha256:…",
  // "host/repo:tag@sha256:…" (containers/image reference.String(); the docker-reference identity).
  std::string String() const;
  // What to ask the registry for: the digest string when there is one, else the tag.
  std::string TagOrDigest() const;
  // The network host for the registry: "index.docker.io" for docker.io, else registry().
  std::string RegistryHost() const;
  // True when the text named no registry ("busybox", "foo/bar"): a short name, which the
  // registry configuration's `unqualified-search-registries` apply to (containers-registries.conf(5)).
  bool IsShortName() const { return short_name_; }

  // The same repository with another tag / a digest instead of the tag/digest.
  ImageReference WithTag(std::string tag) const;
  ImageReference WithDigest(const Digest& digest) const;

  friend bool operator==(const ImageReference& a, const ImageReference& b) { return a.String() == b.String(); }

 private:
  std::string registry_;
  std::string repository_;
  std::string tag_;
  std::optional<Digest> digest_;
  bool short_name_ = false;
};

}  // namespace cdh::image

#endif  // CDH_IMAGE_REFERENCE_H_
