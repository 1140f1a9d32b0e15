// RegistryClient: reads manifests and blobs from an OCI distribution v2 registry
// (opencontainers/distribution-spec spec.md, "Pull"; image-pull spec §3). The puller and the
// signature verifier (image/policy/) reach registries only through this interface; the
// production implementation is OciRegistryClient (image/oci_registry_client.h).
//
// Security property: nothing returned has been trusted without its digest being checked.
// GetManifest checks the body against the digest asked for (by digest) and against
// Docker-Content-Digest (when the registry sends it); GetBlob and StreamBlob check the blob
// against `digest`.
//
// Contract: implementations are thread-safe (calls may run concurrently); neither copyable nor
// movable. Registry credentials never appear in a status message or a log line.
// Status codes:
//   INVALID_ARGUMENT   the tag or digest is malformed
//   NOT_FOUND          the repository, tag or digest does not exist (HTTP 404)
//   PERMISSION_DENIED  the registry refused the credentials (HTTP 401/403 after authenticating)
//   UNAVAILABLE        the registry cannot be reached, answered 5xx, or the connection broke
//   DEADLINE_EXCEEDED  `deadline` passed
//   DATA_LOSS          the bytes do not match their digest, or are shorter/longer than declared
//   RESOURCE_EXHAUSTED the body exceeds the caller's size limit
#ifndef CDH_IMAGE_REGISTRY_CLIENT_H_
#define CDH_IMAGE_REGISTRY_CLIENT_H_

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/call_context.h"
#include "image/digest.h"
#include "image/reference.h"

namespace cdh::image {

struct FetchedManifest {
  std::string bytes;       // the manifest body exactly as served
  std::string media_type;  // Content-Type as served ("" when the registry sent none)
  Digest digest;           // the digest of `bytes` (algorithm of the digest asked for, or sha256)
};

// Receives a blob in chunks, in order. Returning an error stops the download and that status is
// what StreamBlob returns.
using BlobSink = std::function<absl::Status(std::span<const uint8_t> chunk)>;

class RegistryClient {
 public:
  virtual ~RegistryClient() = default;

  // The manifest of `repo` (registry + repository; its own tag/digest is ignored) at
  // `tag_or_digest` ("v1" or "sha256:<hex>"), with the four-type Accept header of spec §3.2.
  virtual absl::StatusOr<FetchedManifest> GetManifest(const ImageReference& repo, std::string_view tag_or_digest,
                                                      const CallContext& ctx) = 0;

  // A small blob (configs, signature payloads), read whole and digest-checked.
  // RESOURCE_EXHAUSTED when it is larger than `max_bytes`.
  virtual absl::StatusOr<std::string> GetBlob(const ImageReference& repo, const Digest& digest, int64_t max_bytes,
                                              const CallContext& ctx) = 0;

  // A blob of any size delivered to `sink` in chunks as it arrives (layers). The blob is hashed
  // as it streams; DATA_LOSS is returned after the last chunk when it does not match `digest`
  // or is not `expected_size` bytes (-1: unknown), so a sink must treat everything it received
  // as untrusted until StreamBlob returns OK. The default implementation reads the blob with
  // GetBlob and hands it over in one chunk (enough for fakes).
  virtual absl::Status StreamBlob(const ImageReference& repo, const Digest& digest, int64_t expected_size,
                                  const BlobSink& sink, const CallContext& ctx) {
    auto blob = GetBlob(repo, digest, expected_size >= 0 ? expected_size : (int64_t{64} << 20), ctx);
    if (!blob.ok()) return blob.status();
    return sink(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(blob->data()), blob->size()));
  }
};

}  // namespace cdh::image

#endif  // CDH_IMAGE_REGISTRY_CLIENT_H_
