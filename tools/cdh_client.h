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
#include "common/unix_socket_address.h"
#include "proto/api.pb.h"
#include "ttrpc/client.h"

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

// A CdhClient over ttrpc on one connection. When nothing listens yet, retries with backoff
// (50 ms doubling to 1 s) for up to `connect_wait` (a client started before the daemon), then
// UNAVAILABLE.
absl::StatusOr<std::unique_ptr<CdhClient>> NewTtrpcCdhClient(const UnixSocketAddress& address,
                                                             absl::Duration connect_wait = absl::ZeroDuration());

// A CdhClient over gRPC (cdh-api.md §3.5). The socket is first connected to plainly, with the
// same retries as over ttrpc, so a socket that does not come up within `connect_wait` answers
// UNAVAILABLE naming the path and the system's reason (and a socket this user may not open
// PERMISSION_DENIED at once) instead of a bare DEADLINE_EXCEEDED; calls then also wait for the
// daemon to be ready within their timeout (gRPC wait_for_ready).
absl::StatusOr<std::unique_ptr<CdhClient>> NewGrpcCdhClient(const UnixSocketAddress& address,
                                                            absl::Duration connect_wait = absl::ZeroDuration());

// Connects to `address` plainly, retrying UNAVAILABLE with backoff (50 ms doubling to 1 s) for up
// to `connect_wait`; the last error otherwise.
absl::StatusOr<std::unique_ptr<ttrpc::Client>> ConnectWithRetry(const UnixSocketAddress& address,
                                                                absl::Duration connect_wait);

}  // namespace cdh::tool

#endif  // CDH_TOOLS_CDH_CLIENT_H_
