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

class GrpcCdhClient : public CdhClient {
 public:
  explicit GrpcCdhClient(std::shared_ptr<grpc::Channel> channel) : channel_(std::move(channel)) {}

  absl::StatusOr<SecretBytes> UnsealSecret(std::string_view sealed, absl::Duration timeout) override {
    grpc::ClientContext ctx;
    SetDeadline(ctx, timeout);
    api::UnsealSecretInput req;
    req.set_secret(std::string(sealed));
    api::UnsealSecretOutput resp;
    absl::Status s = FromGrpc(api::SealedSecretService::NewStub(channel_)->UnsealSecret(&ctx, req, &resp));
    if (!s.ok()) return s;
    return SecretBytes::TakeString(*resp.mutable_plaintext());
  }

  absl::StatusOr<SecretBytes> GetResource(std::string_view resource_uri, absl::Duration timeout) override {
    grpc::ClientContext ctx;
    SetDeadline(ctx, timeout);
    api::GetResourceRequest req;
    req.set_resourcepath(std::string(resource_uri));
    api::GetResourceResponse resp;
    absl::Status s = FromGrpc(api::GetResourceService::NewStub(channel_)->GetResource(&ctx, req, &resp));
    if (!s.ok()) return s;
    return SecretBytes::TakeString(*resp.mutable_resource());
  }

  absl::Status SecureMount(const api::SecureMountRequest& request, absl::Duration timeout) override {
    grpc::ClientContext ctx;
    SetDeadline(ctx, timeout);
    api::SecureMountResponse resp;
    return FromGrpc(api::SecureMountService::NewStub(channel_)->SecureMount(&ctx, request, &resp));
  }
  absl::Status Unmount(const std::string& mount_point, absl::Duration timeout) override {
    grpc::ClientContext ctx;
    SetDeadline(ctx, timeout);
    ext::UnmountRequest req;
    req.set_mount_point(mount_point);
    ext::UnmountResponse resp;
    return FromGrpc(ext::SecureMountExtService::NewStub(channel_)->Unmount(&ctx, req, &resp));
  }

  absl::StatusOr<std::string> PullImage(std::string_view image_url, std::string_view bundle_path,
                                        absl::Duration timeout) override {
    grpc::ClientContext ctx;
    SetDeadline(ctx, timeout);
    api::ImagePullRequest req;
    req.set_image_url(std::string(image_url));
    req.set_bundle_path(std::string(bundle_path));
    api::ImagePullResponse resp;
    absl::Status s = FromGrpc(api::ImagePullService::NewStub(channel_)->PullImage(&ctx, req, &resp));
    if (!s.ok()) return s;
    return resp.manifest_digest();
  }

 private:
  std::shared_ptr<grpc::Channel> channel_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<CdhClient>> NewGrpcCdhClient(const UnixSocketAddress& address) {
  std::string target = "unix:" + address.path();  // gRPC's name syntax for a unix socket path
  return std::make_unique<GrpcCdhClient>(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
}

}  // namespace cdh::tool
