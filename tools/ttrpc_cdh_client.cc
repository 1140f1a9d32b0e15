// CdhClient over ttrpc (cdh-api.md §3.3), with the wire names the kata agent uses.
#include <algorithm>
#include <string>

#include "absl/time/clock.h"
#include "common/status_macros.h"
#include "proto/cdh_ext.pb.h"
#include "tools/cdh_client.h"
#include "ttrpc/client.h"

namespace cdh::tool {
namespace {

// Decodes a reply; the message's own copies of secret fields are taken out by the caller.
bool Parse(const SecretBytes& reply, google::protobuf::MessageLite& out) {
  return out.ParseFromArray(reply.Reveal().data(), static_cast<int>(reply.size()));
}

class TtrpcCdhClient : public CdhClient {
 public:
  explicit TtrpcCdhClient(std::unique_ptr<ttrpc::Client> client) : client_(std::move(client)) {}

  absl::StatusOr<SecretBytes> UnsealSecret(std::string_view sealed, absl::Duration timeout) override {
    api::UnsealSecretInput in;
    in.set_secret(std::string(sealed));
    CDH_ASSIGN_OR_RETURN(SecretBytes reply,
                         client_->Call("api.SealedSecretService", "UnsealSecret", in.SerializeAsString(), timeout));
    api::UnsealSecretOutput out;
    if (!Parse(reply, out)) return absl::InternalError("UnsealSecret reply does not decode");
    return SecretBytes::TakeString(*out.mutable_plaintext());
  }

  absl::StatusOr<SecretBytes> GetResource(std::string_view resource_uri, absl::Duration timeout) override {
    api::GetResourceRequest in;
    in.set_resourcepath(std::string(resource_uri));
    CDH_ASSIGN_OR_RETURN(SecretBytes reply,
                         client_->Call("api.GetResourceService", "GetResource", in.SerializeAsString(), timeout));
    api::GetResourceResponse out;
    if (!Parse(reply, out)) return absl::InternalError("GetResource reply does not decode");
    return SecretBytes::TakeString(*out.mutable_resource());
  }

  absl::Status SecureMount(const api::SecureMountRequest& request, absl::Duration timeout) override {
    CDH_ASSIGN_OR_RETURN(SecretBytes reply,
                         client_->Call("api.SecureMountService", "SecureMount", request.SerializeAsString(), timeout));
    api::SecureMountResponse out;
    if (!Parse(reply, out)) return absl::InternalError("SecureMount reply does not decode");
    return absl::OkStatus();
  }
  absl::Status Unmount(const std::string& mount_point, absl::Duration timeout) override {
    ext::UnmountRequest req;
    req.set_mount_point(mount_point);
    CDH_ASSIGN_OR_RETURN(SecretBytes reply,
                         client_->Call("cdh.ext.SecureMountExtService", "Unmount", req.SerializeAsString(), timeout));
    ext::UnmountResponse out;
    if (!Parse(reply, out)) return absl::InternalError("Unmount reply does not decode");
    return absl::OkStatus();
  }

  absl::StatusOr<std::string> PullImage(std::string_view image_url, std::string_view bundle_path,
                                        absl::Duration timeout) override {
    api::ImagePullRequest in;
    in.set_image_url(std::string(image_url));
    in.set_bundle_path(std::string(bundle_path));
    CDH_ASSIGN_OR_RETURN(SecretBytes reply,
                         client_->Call("api.ImagePullService", "PullImage", in.SerializeAsString(), timeout));
    api::ImagePullResponse out;
    if (!Parse(reply, out)) return absl::InternalError("PullImage reply does not decode");
    return out.manifest_digest();
  }

 private:
  std::unique_ptr<ttrpc::Client> client_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<ttrpc::Client>> ConnectWithRetry(const UnixSocketAddress& address,
                                                                absl::Duration connect_wait) {
  absl::Time deadline = absl::Now() + connect_wait;
  absl::Duration backoff = absl::Milliseconds(50);
  for (;;) {
    absl::StatusOr<std::unique_ptr<ttrpc::Client>> client = ttrpc::Client::Connect(address.path());
    if (client.ok() || client.status().code() != absl::StatusCode::kUnavailable || absl::Now() + backoff > deadline) {
      return client;
    }
    absl::SleepFor(backoff);
    backoff = std::min(backoff * 2, absl::Seconds(1));
  }
}

absl::StatusOr<std::unique_ptr<CdhClient>> NewTtrpcCdhClient(const UnixSocketAddress& address,
                                                             absl::Duration connect_wait) {
  absl::StatusOr<std::unique_ptr<ttrpc::Client>> client = ConnectWithRetry(address, connect_wait);
  if (!client.ok()) return client.status();
  return std::make_unique<TtrpcCdhClient>(std::move(*client));
}

}  // namespace cdh::tool
