// KeyResolver: reads the public key a policy's `keyPath` names (CoCo extension of
// containers-policy.json; guest-components image-rs, resource/mod.rs): a `kbs:///…` (or
// `kbs+<plugin>://…`) resource URI is fetched from the broker through the daemon's own resource
// provider, in-process; `file:///path` or a bare path is read from the local filesystem; any
// other scheme is refused.
//
// Codes: INVALID_ARGUMENT an unsupported scheme or a malformed URI; NOT_FOUND the file or
// resource does not exist; INVALID_ARGUMENT also for a file larger than kMaxKeySize; the resource
// provider's codes (UNAVAILABLE, UNAUTHENTICATED, PERMISSION_DENIED, DEADLINE_EXCEEDED) as they
// come. Messages name the path or URI, never key bytes.
// Implementations are thread-safe.
#ifndef CDH_IMAGE_POLICY_KEY_RESOLVER_H_
#define CDH_IMAGE_POLICY_KEY_RESOLVER_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/call_context.h"
#include "resources/resource_provider.h"

namespace cdh::image {

class KeyResolver {
 public:
  // Largest key file accepted, in bytes (a GPG keyring with a few keys is well under this).
  static constexpr size_t kMaxKeySize = 1 << 20;

  virtual ~KeyResolver() = default;
  // The key bytes (public keys: not secret).
  virtual absl::StatusOr<std::string> ReadKey(std::string_view key_path, const CallContext& ctx) = 0;
};

// The daemon's resolver: `kbs` URIs through `provider` (which must outlive it), files locally.
// Thread-safe; neither copyable nor movable.
class ResourceKeyResolver : public KeyResolver {
 public:
  explicit ResourceKeyResolver(resources::ResourceProvider& provider) : provider_(provider) {}
  ResourceKeyResolver(const ResourceKeyResolver&) = delete;
  ResourceKeyResolver& operator=(const ResourceKeyResolver&) = delete;

  absl::StatusOr<std::string> ReadKey(std::string_view key_path, const CallContext& ctx) override;

 private:
  resources::ResourceProvider& provider_;
};

}  // namespace cdh::image

#endif  // CDH_IMAGE_POLICY_KEY_RESOLVER_H_
