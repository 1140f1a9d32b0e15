// ImagePuller: PullImage's core (image-pull spec §1.2, §1.3, §3, §4; cdh-api.md §12). Given an
// image reference and a bundle directory it tries the locations the registry configuration names
// (mirrors, then the remapped or original location; the first that succeeds wins), and from
// each resolves the platform manifest, asks the
// ImageVerifier (on every pull, cache hits included), fetches the config, then brings every
// layer into the LayerStore — streaming download → digest → decrypt → decompress → untar into a
// staging directory, up to `max_concurrent_layer_downloads` at once — and mounts
// `<bundle>/rootfs` as an overlay of the cached layers, with `<bundle>/config.json` generated from
// the image config as upstream does.
//
// Security properties:
// - Nothing from a manifest, config or layer is used before its digest is checked; a layer is
//   published only after its blob digest, HMAC (encrypted layers) and diff_id all match.
// - The verifier runs before any layer is fetched; an encrypted layer's key is released
//   (LayerDecryptor::Open) on every pull even when a plaintext twin is already cached.
// - A failed pull leaves no rootfs mount and no config.json behind.
// When every location fails, the message is upstream's aggregate, one entry per location:
//   Failed to pull image <image_url> from all mirror/mapping locations or original location:
//   image: <location reference>, error: <cause>[\nimage: …, error: …]
// and the code is the last location's (the remapped or original one, tried last).
// Status codes of Pull (messages keep upstream's wording after its "Image Pull error: " prefix,
// which the RPC handler adds; credentials never appear): INVALID_ARGUMENT malformed reference or bundle path; NOT_FOUND
// unknown image, tag or platform; PERMISSION_DENIED policy denial or registry refusal; UNAVAILABLE registry
// unreachable; DATA_LOSS digest/diff_id/HMAC mismatch or corrupt layer; DEADLINE_EXCEEDED;
// UNIMPLEMENTED schema 1, unknown media types, encrypted layers without a decryptor;
// FAILED_PRECONDITION config.json already present, non-linux image, overlay not mountable;
// PERMISSION_DENIED also when the registry configuration blocks every location.
// Thread-safe: pulls run concurrently (sharing downloads of the same layer); neither copyable
// nor movable.
#ifndef CDH_IMAGE_IMAGE_PULLER_H_
#define CDH_IMAGE_IMAGE_PULLER_H_

#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/call_context.h"
#include "image/descriptor.h"
#include "image/image_verifier.h"
#include "image/layer_decryptor.h"
#include "image/layer_store.h"
#include "image/manifest.h"
#include "image/reference.h"
#include "image/registry_client.h"

namespace cdh::image {

// One location to pull an image from (image-rs ImagePullTask): a mirror, a remapped location, an
// unqualified-search registry, or the reference as requested. Copyable value type.
struct PullSource {
  enum class Kind { kOriginal, kMirror, kRemapped, kUnqualifiedSearch };
  ImageReference reference;  // where the manifest, config, layers and sigstore signatures come from
  bool plain_http = false;   // the location is `insecure`: plain HTTP, nothing else
  Kind kind = Kind::kOriginal;
};

// Where to pull a reference from (the registry configuration) and with which client
// (credentials, scheme). Thread-safe.
class RegistryClientFactory {
 public:
  virtual ~RegistryClientFactory() = default;
  // The locations to try for `requested`, in order; never empty when OK. PERMISSION_DENIED when
  // the registry configuration blocks every location; INVALID_ARGUMENT when it composes a
  // reference that does not parse.
  virtual absl::StatusOr<std::vector<PullSource>> SourcesFor(const ImageReference& requested) = 0;
  // The client for `source`; clients may be shared across pulls (token reuse).
  virtual absl::StatusOr<std::shared_ptr<RegistryClient>> ClientFor(const PullSource& source) = 0;
};

// Records a successful pull (the runtime measurement of spec §1.6). Thread-safe.
class PullMeasurer {
 public:
  virtual ~PullMeasurer() = default;
  // `image_url` as received, `manifest_digest` as replied. An error fails the pull.
  virtual absl::Status RecordPull(std::string_view image_url, const Digest& manifest_digest) = 0;
};

struct ImagePullerOptions {
  std::string work_dir = "/run/kata-containers/image";
  int max_concurrent_layer_downloads = 3;  // 0 = no limit (upstream's futures-util rule)
  Platform platform = HostPlatform();
  size_t stream_buffer_bytes = 1 << 20;  // per layer, between download and unpack
};

class ImagePuller {
 public:
  // The collaborators must outlive the puller; `measurer` may be null (no measurement).
  // INTERNAL when the work directory cannot be prepared.
  static absl::StatusOr<std::unique_ptr<ImagePuller>> New(ImagePullerOptions options, RegistryClientFactory& registries,
                                                          ImageVerifier& verifier, LayerDecryptor& decryptor,
                                                          PullMeasurer* measurer);
  ImagePuller(const ImagePuller&) = delete;
  ImagePuller& operator=(const ImagePuller&) = delete;

  // Pulls `image_url` into `bundle_path` (absolute) and returns the manifest digest
  // ("sha256:<hex>" of the platform manifest unpacked).
  absl::StatusOr<std::string> Pull(std::string_view image_url, std::string_view bundle_path, const CallContext& ctx);

  // Layers downloaded (not served from the cache) since start, for tests and benchmarks.
  int64_t layers_downloaded() const { return layers_downloaded_.load(); }
  LayerStore& layer_store() { return *store_; }

 private:
  ImagePuller(ImagePullerOptions options, RegistryClientFactory& registries, ImageVerifier& verifier,
              LayerDecryptor& decryptor, PullMeasurer* measurer, std::unique_ptr<LayerStore> store)
      : options_(std::move(options)),
        registries_(registries),
        verifier_(verifier),
        decryptor_(decryptor),
        measurer_(measurer),
        store_(std::move(store)) {}

  // What one location yields: the platform manifest's digest, the image config and the layer
  // directories, topmost first.
  struct Resolved {
    Digest manifest_digest;
    ImageConfig config;
    std::vector<std::string> lower;
  };

  absl::StatusOr<std::string> PullInner(std::string_view image_url, std::string_view bundle_path,
                                        const CallContext& ctx);
  // Resolves, verifies and fetches `requested` from `source`; nothing is mounted.
  absl::StatusOr<Resolved> PullFrom(const ImageReference& requested, const PullSource& source, const CallContext& ctx);
  // The layer with `diff_id` in the cache (fetched if needed); its directory.
  absl::StatusOr<std::string> EnsureLayer(RegistryClient& client, const ImageReference& ref, const Descriptor& layer,
                                          const Digest& diff_id, const CallContext& ctx);
  absl::Status FetchLayer(RegistryClient& client, const ImageReference& ref, const Descriptor& layer,
                          const Digest& diff_id, std::unique_ptr<LayerStreamDecryptor> decrypt,
                          const std::string& staging, const CallContext& ctx);

  const ImagePullerOptions options_;
  RegistryClientFactory& registries_;
  ImageVerifier& verifier_;
  LayerDecryptor& decryptor_;
  PullMeasurer* measurer_;
  std::unique_ptr<LayerStore> store_;
  std::atomic<int64_t> layers_downloaded_{0};
};

// The OCI runtime spec `config.json` upstream generates from an image config (spec §1.3).
std::string RuntimeSpecFor(const ImageConfig& config);

}  // namespace cdh::image

#endif  // CDH_IMAGE_IMAGE_PULLER_H_
