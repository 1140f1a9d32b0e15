// CdhClient over gRPC (cdh-api.md §3.5).
#include <chrono>
#include <string>

#include <grpcpp/grpcpp.h>

#include "proto/api.grpc.pb.h"
#include "proto/cdh_ext.grpc.pb.h"
#include "tools/cdh_client.h"

namespace cdh::tool {
namespace {

absl::Status FromGrpc(const grpc::Status& s) {
  if (s.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
}

void SetDeadline(grpc::ClientContext& ctx, absl::Duration timeout) {
  // Wait for a daemon that is not listening yet, within the deadline.
  ctx.set_wait_for_ready(true);
  if (timeout == absl::InfiniteDuration() || timeout <= absl::ZeroDuration()) return;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::microseconds(absl::ToInt64Microseconds(timeout)));
}

// One unary call on a fresh stub of `Service` with the caller's deadline.
template <typename Service, typename Request, typename Response>
absl::Status Invoke(const std::shared_ptr<grpc::Channel>& channel,
                    grpc::Status (Service::Stub::*method)(grpc::ClientContext*, const Request&, Response*),
                    const Request& request, Response& response, absl::Duration timeout) {
  grpc::ClientContext ctx;
  SetDeadline(ctx, timeout);
  auto stub = Service::NewStub(channel);
  return FromGrpc(((*stub).*method)(&ctx, request, &response));
}

class GrpcCdhClient : public CdhClient {
 public:
  explicit GrpcCdhClient(std::shared_ptr<grpc::Channel> channel) : channel_(std::move(channel)) {}

  absl::StatusOr<SecretBytes> UnsealSecret(std::string_view sealed, absl::Duration timeout) override {
    api::UnsealSecretInput req;
    req.set_secret(std::string(sealed));
    api::UnsealSecretOutput resp;
    absl::Status s =
        Invoke<api::SealedSecretService>(channel_, &api::SealedSecretService::Stub::UnsealSecret, req, resp, timeout);
    if (!s.ok()) return s;
    return SecretBytes::TakeString(*resp.mutable_plaintext());
  }

  absl::StatusOr<SecretBytes> GetResource(std::string_view resource_uri, absl::Duration timeout) override {
    api::GetResourceRequest req;
    req.set_resourcepath(std::string(resource_uri));
    api::GetResourceResponse resp;
    absl::Status s =
        Invoke<api::GetResourceService>(channel_, &api::GetResourceService::Stub::GetResource, req, resp, timeout);
    if (!s.ok()) return s;
    return SecretBytes::TakeString(*resp.mutable_resource());
  }

  absl::Status SecureMount(const api::SecureMountRequest& request, absl::Duration timeout) override {
    api::SecureMountResponse resp;
    return Invoke<api::SecureMountService>(channel_, &api::SecureMountService::Stub::SecureMount, request, resp,
                                           timeout);
  }
  absl::Status Unmount(const std::string& mount_point, absl::Duration timeout) override {
    ext::UnmountRequest req;
    req.set_mount_point(mount_point);
    ext::UnmountResponse resp;
    return Invoke<ext::SecureMountExtService>(channel_, &ext::SecureMountExtService::Stub::Unmount, req, resp, timeout);
  }

  absl::StatusOr<std::string> PullImage(std::string_view image_url, std::string_view bundle_path,
                                        absl::Duration timeout) override {
    api::ImagePullRequest req;
    req.set_image_url(std::string(image_url));
    req.set_bundle_path(std::string(bundle_path));
    api::ImagePullResponse resp;
    absl::Status s =
        Invoke<api::ImagePullService>(channel_, &api::ImagePullService::Stub::PullImage, req, resp, timeout);
    if (!s.ok()) return s;
    return resp.manifest_digest();
  }

 private:
  std::shared_ptr<grpc::Channel> channel_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<CdhClient>> NewGrpcCdhClient(const UnixSocketAddress& address,
                                                            absl::Duration connect_wait) {
  // A plain connection first: it fails with the system's reason where gRPC would only time out.
  absl::StatusOr<std::unique_ptr<ttrpc::Client>> probe = ConnectWithRetry(address, connect_wait);
  if (!probe.ok()) return probe.status();
  probe->reset();
  std::string target = "unix:" + address.path();  // gRPC's name syntax for a unix socket path
  return std::make_unique<GrpcCdhClient>(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
}

}  // namespace cdh::tool
