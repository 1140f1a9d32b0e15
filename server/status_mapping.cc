#include "server/status_mapping.h"

#include "common/strings.h"

namespace cdh {

WireStatus ToWireStatus(const absl::Status& status) {
  if (status.ok()) return WireStatus{0, ""};
  // absl::StatusCode values are the gRPC / google.rpc.Code values, one for one.
  return WireStatus{static_cast<int>(status.code()), std::string(ToStd(status.message()))};
}

}  // namespace cdh
