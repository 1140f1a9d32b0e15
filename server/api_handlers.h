// ApiHandlers: the one set of RPC handlers that both transports (gRPC, ttrpc) call.
// Each handler parses the request, calls the DataHub, and returns the reply or a status whose
// code and message are final (mapping to the wire code happens in server/status_mapping.h).
//
// MethodTable() exposes the same handlers over serialized protobuf bytes, keyed by the wire
// service and method names of cdh-api.md §3.3 ("api.SealedSecretService", "UnsealSecret"), for
// transports that are not gRPC. Thread-safe: handlers may run concurrently. Neither copyable
// nor movable (transports hold references).
#ifndef CDH_SERVER_API_HANDLERS_H_
#define CDH_SERVER_API_HANDLERS_H_

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"
#include "common/call_context.h"
#include "hub/data_hub.h"
#include "proto/api.pb.h"
#include "proto/cdh_ext.pb.h"
#include "proto/keyprovider.pb.h"

namespace cdh {

class ApiHandlers {
 public:
  explicit ApiHandlers(DataHub& hub) : hub_(hub) {}
  ApiHandlers(const ApiHandlers&) = delete;
  ApiHandlers& operator=(const ApiHandlers&) = delete;

  absl::StatusOr<api::UnsealSecretOutput> UnsealSecret(const api::UnsealSecretInput& req, const CallContext& ctx);
  absl::StatusOr<api::GetResourceResponse> GetResource(const api::GetResourceRequest& req, const CallContext& ctx);
  absl::StatusOr<api::SecureMountResponse> SecureMount(const api::SecureMountRequest& req, const CallContext& ctx);
  // Our extension (proto/cdh_ext.proto): cdh.ext.SecureMountExtService/Unmount.
  absl::StatusOr<ext::UnmountResponse> Unmount(const ext::UnmountRequest& req, const CallContext& ctx);
  absl::StatusOr<api::ImagePullResponse> PullImage(const api::ImagePullRequest& req, const CallContext& ctx);
  absl::StatusOr<keyprovider::KeyProviderKeyWrapProtocolOutput> UnWrapKey(
      const keyprovider::KeyProviderKeyWrapProtocolInput& req, const CallContext& ctx);
  absl::StatusOr<keyprovider::KeyProviderKeyWrapProtocolOutput> WrapKey(
      const keyprovider::KeyProviderKeyWrapProtocolInput& req, const CallContext& ctx);

  // Serialized request bytes -> serialized reply bytes (a SecretBytes: replies carry plaintexts).
  // INVALID_ARGUMENT when the request bytes do not decode as the method's request message.
  using RawHandler = std::function<absl::StatusOr<SecretBytes>(std::string_view request, const CallContext& ctx)>;
  // Key: {service, method} as on the wire, e.g. {"api.GetResourceService", "GetResource"}.
  using MethodTable = std::map<std::pair<std::string, std::string>, RawHandler, std::less<>>;
  MethodTable BuildMethodTable();

 private:
  DataHub& hub_;
};

}  // namespace cdh

#endif  // CDH_SERVER_API_HANDLERS_H_
