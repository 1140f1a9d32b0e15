// DataHub: what the Confidential Data Hub does, independent of any transport.
// The gRPC and ttrpc servers both call it through ApiHandlers (server/api_handlers.h).
//
// Contract: implementations are thread-safe; every method may run concurrently with any other.
// Status codes follow ../shared/STYLE.md ("Errors"):
//   INVALID_ARGUMENT malformed input; NOT_FOUND missing resource; PERMISSION_DENIED bad signature
//   or policy denial; UNAUTHENTICATED attestation failed; UNAVAILABLE broker/device unreachable;
//   DEADLINE_EXCEEDED; FAILED_PRECONDITION not configured; UNIMPLEMENTED not built or unknown
//   provider/volume type; INTERNAL a bug.
// Messages never contain secret bytes.
#ifndef CDH_HUB_DATA_HUB_H_
#define CDH_HUB_DATA_HUB_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/call_context.h"
#include "common/secret_bytes.h"

namespace cdh {

// SecureMount request as received (cdh-api.md §11.1); options are parsed by the volume driver.
struct SecureMountParams {
  std::string volume_type;
  std::map<std::string, std::string> options;
  std::vector<std::string> flags;
  std::string mount_point;
};

class DataHub {
 public:
  virtual ~DataHub() = default;

  // `secret` is the sealed secret as sent by the kata agent: "sealed.<jws>", possibly with
  // trailing whitespace (cdh-api.md §7; policy in resources/secret/sealed_secret.h).
  virtual absl::StatusOr<SecretBytes> UnsealSecret(std::string_view secret, const CallContext& ctx) = 0;
  // `resource_uri` is a KBS resource URI (cdh-api.md §9.1).
  virtual absl::StatusOr<SecretBytes> GetResource(std::string_view resource_uri, const CallContext& ctx) = 0;
  virtual absl::Status SecureMount(const SecureMountParams& params, const CallContext& ctx) = 0;
  // Undoes a SecureMount at `mount_point` (our extension, proto/cdh_ext.proto). NOT_FOUND if
  // nothing of ours is mounted there; UNIMPLEMENTED by default.
  virtual absl::Status SecureUnmount(const std::string& mount_point, const CallContext& ctx) {
    return absl::UnimplementedError("SecureUnmount is not supported");
  }
  // Returns the manifest digest (cdh-api.md §12).
  virtual absl::StatusOr<std::string> PullImage(std::string_view image_url, std::string_view bundle_path,
                                                const CallContext& ctx) = 0;
  // ocicrypt key-provider protocol: JSON in, JSON out (cdh-api.md §10). The output holds the
  // unwrapped layer key.
  virtual absl::StatusOr<SecretBytes> UnwrapKey(std::string_view input_json, const CallContext& ctx) = 0;
};

}  // namespace cdh

#endif  // CDH_HUB_DATA_HUB_H_
