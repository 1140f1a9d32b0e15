#include "ttrpc/codec.h"

#include "common/strings.h"

namespace cdh::ttrpc {

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

std::string EncodeResponse(const RpcStatus& status, std::string_view payload) {
  ::ttrpc::Response response;
  // Like upstream servers, always send a status, code 0 on success.
  response.mutable_status()->set_code(status.code);
  response.mutable_status()->set_message(status.message);
  if (status.code == 0) response.set_payload(std::string(payload));
  return response.SerializeAsString();
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
