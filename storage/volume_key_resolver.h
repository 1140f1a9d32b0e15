// VolumeKeyResolver: how the block-device driver obtains a key it cannot get by itself.
// The hub implements it: sealed secrets through its SecretUnsealer (cdh-api.md §7), KBS URIs
// through its ResourceProvider (§9). The storage module never reaches up to the hub.
// Implementations are thread-safe.
#ifndef CDH_STORAGE_VOLUME_KEY_RESOLVER_H_
#define CDH_STORAGE_VOLUME_KEY_RESOLVER_H_

#include <string_view>

#include "absl/status/statusor.h"
#include "common/call_context.h"
#include "common/secret_bytes.h"

namespace cdh::storage {

class VolumeKeyResolver {
 public:
  virtual ~VolumeKeyResolver() = default;
  // `sealed` is "sealed.…" (unseal it).
  virtual absl::StatusOr<SecretBytes> Unseal(std::string_view sealed, const CallContext& ctx) = 0;
  // `uri` is a KBS resource URI (fetch it).
  virtual absl::StatusOr<SecretBytes> GetResource(std::string_view uri, const CallContext& ctx) = 0;
};

}  // namespace cdh::storage

#endif  // CDH_STORAGE_VOLUME_KEY_RESOLVER_H_
