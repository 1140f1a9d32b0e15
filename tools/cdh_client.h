// CdhClient: what cdh-tool asks of a running Confidential Data Hub, independent of the
// transport (ttrpc, as the kata agent speaks, or gRPC). cdh-api.md §2.1, §3.
//
// Codes: whatever status the daemon answered with; UNAVAILABLE when it cannot be reached;
// DEADLINE_EXCEEDED when `timeout` passed. Implementations are thread-safe, neither copyable
// nor movable.
#ifndef CDH_TOOLS_CDH_CLIENT_H_
#define CDH_TOOLS_CDH_CLIENT_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/secret_bytes.h"
#include "proto/api.pb.h"

namespace cdh::tool {

class CdhClient {
 public:
  virtual ~CdhClient() = default;
  // `sealed` is sent as is (the kata agent does not trim it, cdh-api.md §14).
  virtual absl::StatusOr<SecretBytes> UnsealSecret(std::string_view sealed, absl::Duration timeout) = 0;
  virtual absl::StatusOr<SecretBytes> GetResource(std::string_view resource_uri, absl::Duration timeout) = 0;
  virtual absl::Status SecureMount(const api::SecureMountRequest& request, absl::Duration timeout) = 0;
  // cdh.ext.SecureMountExtService/Unmount (proto/cdh_ext.proto): undoes the SecureMount at
  // `mount_point`. NOT_FOUND if none is there; FAILED_PRECONDITION if it is busy.
  virtual absl::Status Unmount(const std::string& mount_point, absl::Duration timeout) = 0;
  // PullImage (cdh-api.md §12): the manifest digest.
  virtual absl::StatusOr<std::string> PullImage(std::string_view image_url, std::string_view bundle_path,
                                                absl::Duration timeout) = 0;
};

// A CdhClient over ttrpc on one connection. `address` is "unix:///path" or a path. When
// nothing listens yet, retries with backoff (50 ms doubling to 1 s) for up to `connect_wait`
// (a client started before the daemon, field case R4), then UNAVAILABLE. INVALID_ARGUMENT for
// another scheme.
absl::StatusOr<std::unique_ptr<CdhClient>> NewTtrpcCdhClient(std::string_view address,
                                                             absl::Duration connect_wait = absl::ZeroDuration());

// A CdhClient over gRPC (cdh-api.md §3.5). `address` is "unix:///path". Calls wait for the
// daemon to be ready within their timeout (gRPC wait_for_ready), then UNAVAILABLE.
absl::StatusOr<std::unique_ptr<CdhClient>> NewGrpcCdhClient(std::string_view address);

}  // namespace cdh::tool

#endif  // CDH_TOOLS_CDH_CLIENT_H_
