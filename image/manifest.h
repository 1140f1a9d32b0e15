// OCI / Docker schema 2 manifests, indexes and image configs: parsing, kind detection, platform
// selection and layer media types (image-pull spec §3.3, §3.4, §3.8; opencontainers/image-spec
// manifest.md, image-index.md, config.md; Docker "Image Manifest V2, Schema 2").
//
// Everything here parses bytes whose digest the caller has already verified; the parsers still
// treat them as hostile (size limits, types checked, no exceptions). All functions are pure and
// thread-safe. Status codes: INVALID_ARGUMENT for malformed JSON or a missing/ill-typed field;
// UNIMPLEMENTED for schema 1, unknown manifest media types and unsupported layer media types;
// NOT_FOUND when no index entry matches the platform.
#ifndef CDH_IMAGE_MANIFEST_H_
#define CDH_IMAGE_MANIFEST_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "image/descriptor.h"
#include "image/digest.h"

namespace cdh::image {

namespace media_type {
inline constexpr char kOciManifest[] = "application/vnd.oci.image.manifest.v1+json";
inline constexpr char kOciIndex[] = "application/vnd.oci.image.index.v1+json";
inline constexpr char kDockerManifest[] = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr char kDockerList[] = "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr char kOciConfig[] = "application/vnd.oci.image.config.v1+json";
inline constexpr char kDockerConfig[] = "application/vnd.docker.container.image.v1+json";
// The Accept header of manifest requests, in upstream's order (spec §3.2).
inline constexpr char kManifestAccept[] =
    "application/vnd.docker.distribution.manifest.v2+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json";
}  // namespace media_type

// Manifests and configs larger than this are refused (the distribution spec suggests 4 MiB).
inline constexpr int64_t kMaxManifestBytes = 4 << 20;
inline constexpr int64_t kMaxConfigBytes = 8 << 20;

enum class ManifestKind { kIndex, kImageManifest };

// Decides what `body` is from its `mediaType` field, else the Content-Type, else its structure
// (umoci writes no mediaType). UNIMPLEMENTED "Unsupported schema version: 1" for schema 1 and
// "Unsupported media type: …" for anything else.
absl::StatusOr<ManifestKind> ClassifyManifest(std::string_view body, std::string_view content_type);

struct ImageIndex {
  std::vector<Descriptor> manifests;
};

struct ImageManifest {
  Descriptor config;
  std::vector<Descriptor> layers;
};

// The parts of an image config this CDH uses (config.md).
struct ImageConfig {
  std::string os;
  std::string architecture;
  std::vector<Digest> diff_ids;  // rootfs.diff_ids, bottom layer first
  std::vector<std::string> env;
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::string working_dir;
  std::string user;
  std::map<std::string, std::string> labels;
  std::vector<std::string> volumes;
};

absl::StatusOr<ImageIndex> ParseImageIndex(std::string_view body);
absl::StatusOr<ImageManifest> ParseImageManifest(std::string_view body);
// INVALID_ARGUMENT also when rootfs.type is not "layers" or a diff_id is not a digest.
absl::StatusOr<ImageConfig> ParseImageConfig(std::string_view body);

// The platform this binary runs on, in GOARCH naming ("linux"/"amd64").
Platform HostPlatform();

// The index entry for `want` (spec §3.4): an exact os/architecture/variant match first, then the
// first os/architecture match (variant ignored, upstream's rule); entries without a platform never
// match. NOT_FOUND "no entry found in image index manifest matching client's default platform".
absl::StatusOr<Descriptor> SelectPlatform(const ImageIndex& index, const Platform& want);

enum class LayerCompression { kNone, kGzip, kZstd };

// The compression of a (decrypted) layer media type (spec §3.8): tar, tar+gzip, tar+zstd, their
// nondistributable variants and Docker's rootfs.diff.tar.gzip. UNIMPLEMENTED "unhandled media
// type" otherwise.
absl::StatusOr<LayerCompression> LayerCompressionOf(std::string_view media_type);

}  // namespace cdh::image

#endif  // CDH_IMAGE_MANIFEST_H_
