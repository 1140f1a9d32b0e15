#include "ttrpc/codec.h"

#include "common/strings.h"

namespace cdh::ttrpc {
namespace {

template <typename Buffer>
void AppendVarint(Buffer& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

}  // namespace

absl::StatusOr<::ttrpc::Request> DecodeRequest(std::string_view data) {
  ::ttrpc::Request request;
  if (!request.ParseFromArray(data.data(), static_cast<int>(data.size()))) {
    return absl::InvalidArgumentError("unmarshal request error: not a ttrpc.Request");
  }
  return request;
}

std::string EncodeRequest(std::string_view service, std::string_view method, std::string_view payload,
                          int64_t timeout_nano) {
  ::ttrpc::Request request;
  request.set_service(std::string(service));
  request.set_method(std::string(method));
  request.set_payload(std::string(payload));
  request.set_timeout_nano(timeout_nano);
  return request.SerializeAsString();
}

SecretBytes EncodeResponse(const RpcStatus& status, std::string_view payload) {
  // Like upstream servers, always send a status, code 0 on success. Encoded by hand (the bytes
  // protobuf would produce: status=1, payload=2) so the payload, often a plaintext, is copied
  // once, into the buffer the caller wipes, and never into a message object freed unwiped.
  ::ttrpc::Status wire_status;
  wire_status.set_code(status.code);
  wire_status.set_message(status.message);
  std::string status_bytes = wire_status.SerializeAsString();
  if (status.code != 0) payload = {};
  SecretBytes out;
  out.reserve(2 * 10 + status_bytes.size() + payload.size() + 2);
  out.push_back(0x0a);  // field 1, length-delimited
  AppendVarint(out, status_bytes.size());
  out.Append(status_bytes);
  if (!payload.empty()) {
    out.push_back(0x12);  // field 2, length-delimited
    AppendVarint(out, payload.size());
    out.Append(payload);
  }
  return out;
}

absl::StatusOr<::ttrpc::Response> DecodeResponse(std::string_view data) {
  ::ttrpc::Response response;
  if (!response.ParseFromArray(data.data(), static_cast<int>(data.size()))) {
    return absl::InvalidArgumentError("unmarshal response error: not a ttrpc.Response");
  }
  return response;
}

absl::Status ToAbslStatus(const ::ttrpc::Response& response) {
  if (!response.has_status() || response.status().code() == 0) return absl::OkStatus();
  int32_t code = response.status().code();
  absl::StatusCode c = (code > 0 && code <= 16) ? static_cast<absl::StatusCode>(code) : absl::StatusCode::kUnknown;
  return absl::Status(c, response.status().message());
}

}  // namespace cdh::ttrpc
