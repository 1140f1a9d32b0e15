// ResourceProvider: fetches a KBS resource by URI — a "KBC" in upstream's words
// (cdh-api.md §9.2): `offline_fs_kbc` reads local files, `cc_kbc` attests to a broker.
//
// Contract: implementations are thread-safe; GetResource may be called concurrently. The bytes
// returned are the resource exactly as stored (no trimming). Status codes:
//   NOT_FOUND          the resource does not exist
//   INVALID_ARGUMENT   the URI is not acceptable to this provider
//   PERMISSION_DENIED  the broker's policy refused the resource
//   UNAUTHENTICATED    attestation failed
//   UNAVAILABLE        the broker or the files cannot be reached (retryable)
//   DEADLINE_EXCEEDED  the caller's deadline passed
//   FAILED_PRECONDITION the provider is not configured for this request
// Messages are short, name the resource URI, and never contain resource bytes.
#ifndef CDH_RESOURCES_RESOURCE_PROVIDER_H_
#define CDH_RESOURCES_RESOURCE_PROVIDER_H_

#include <string_view>

#include "absl/status/statusor.h"
#include "common/call_context.h"
#include "common/secret_bytes.h"
#include "resources/resource_uri.h"

namespace cdh::resources {

class ResourceProvider {
 public:
  virtual ~ResourceProvider() = default;
  virtual absl::StatusOr<SecretBytes> GetResource(const ResourceUri& uri, const CallContext& ctx) = 0;
  // The KBC name as configured ("offline_fs_kbc", "cc_kbc").
  virtual std::string_view name() const = 0;
};

}  // namespace cdh::resources

#endif  // CDH_RESOURCES_RESOURCE_PROVIDER_H_
