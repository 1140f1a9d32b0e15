// The one place where an absl::Status becomes a wire status (the README's "Errors" table).
// absl::StatusCode values equal gRPC's (and therefore ttrpc's google.rpc.Status) codes.
#ifndef CDH_SERVER_STATUS_MAPPING_H_
#define CDH_SERVER_STATUS_MAPPING_H_

#include <string>

#include "absl/status/status.h"

namespace cdh {

// A wire status: numeric gRPC code and the short message the caller sees.
struct WireStatus {
  int code = 0;
  std::string message;
};

// Maps a handler status to the wire. ApiHandlers have already prefixed the message with the
// upstream top-level text ("Unseal Secret failed: ...", cdh-api.md §3.4); the message is free of
// secret bytes. An OK status maps to code 0 with an empty message.
// Both transports use it (gRPC in server/grpc_server.cc, ttrpc in server/ttrpc_server.cc).
WireStatus ToWireStatus(const absl::Status& status);

}  // namespace cdh

#endif  // CDH_SERVER_STATUS_MAPPING_H_
