// The one place where an absl::Status becomes a wire status (the README's "Errors" table).
// absl::StatusCode values equal gRPC's (and therefore ttrpc's google.rpc.Status) codes.
//
// Error taxonomy (docs/errors.md): a code answers "who is at fault, and can a retry help?"
//   caller's malformed request (bad field, undecodable protobuf)   INVALID_ARGUMENT     no retry
//   caller names something missing                                NOT_FOUND            no retry
//   caller asks for what this build lacks                          UNIMPLEMENTED        no retry
//   setup/environment not fit (no broker, bad CA, our own evidence
//     fails its checks, ext4 fails to mount after a good unlock)   FAILED_PRECONDITION  no retry
//   signature or policy refusal                                    PERMISSION_DENIED    no retry
//   the broker refuses our attestation                             UNAUTHENTICATED      no retry
//   broker/device unreachable, 5xx, lost TPM connection            UNAVAILABLE          retry helps
//   the broker's answer is corrupt (broken JWE), digest mismatch   DATA_LOSS            no retry
//   the caller's deadline passed                                   DEADLINE_EXCEEDED
//   an answer over our size limit                                  RESOURCE_EXHAUSTED
//   a bug of ours                                                  INTERNAL
// A broker's answer is never INVALID_ARGUMENT or PERMISSION_DENIED: those blame the caller.
#ifndef CDH_SERVER_STATUS_MAPPING_H_
#define CDH_SERVER_STATUS_MAPPING_H_

#include <string>

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace cdh {

// A wire status: numeric gRPC code and the short message the caller sees.
struct WireStatus {
  int code = 0;
  std::string message;
};

// Maps a handler status to the wire. ApiHandlers have already prefixed the message with the
// upstream top-level text ("Unseal Secret failed: ...", cdh-api.md §3.4); the message is free of
// secret bytes. An OK status maps to code 0 with an empty message.
WireStatus ToWireStatus(const absl::Status& status);
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace cdh

#endif  // CDH_SERVER_STATUS_MAPPING_H_
