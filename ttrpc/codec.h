// ttrpc envelope codec: frame data <-> ttrpc.Request / ttrpc.Response (cdh-api.md §3.3).
// The messages are the protobuf types of proto/ttrpc.proto; this layer adds the size rule and
// the conversion between a response status and absl::Status. Thread-safe (pure functions).
#ifndef CDH_TTRPC_CODEC_H_
#define CDH_TTRPC_CODEC_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/secret_bytes.h"
#include "proto/ttrpc.pb.h"

namespace cdh::ttrpc {

// A status as it travels in ttrpc.Response.status: google.rpc.Status code (== absl/gRPC code
// numbers) and message.
struct RpcStatus {
  int32_t code = 0;
  std::string message;
};

// Parses request frame data. INVALID_ARGUMENT when it is not a ttrpc.Request.
absl::StatusOr<::ttrpc::Request> DecodeRequest(std::string_view data);
std::string EncodeRequest(std::string_view service, std::string_view method, std::string_view payload,
                          int64_t timeout_nano);

// Response frame data carrying `status` and, when the code is 0, `payload`; a SecretBytes,
// since the payload is often a plaintext.
SecretBytes EncodeResponse(const RpcStatus& status, std::string_view payload);
// Parses response frame data. INVALID_ARGUMENT when it is not a ttrpc.Response.
absl::StatusOr<::ttrpc::Response> DecodeResponse(std::string_view data);

// The absl::Status a response's status stands for (code 0 or absent -> OK). Codes outside
// 0..16 become UNKNOWN.
absl::Status ToAbslStatus(const ::ttrpc::Response& response);

}  // namespace cdh::ttrpc

#endif  // CDH_TTRPC_CODEC_H_
