#include "server/api_handlers.h"

#include <spdlog/spdlog.h>

#include "common/strings.h"

namespace cdh {
namespace {

// Prefixes the upstream top-level text (cdh-api.md §3.4) and logs the failure. The message
// already comes free of secret bytes from every layer below.
absl::Status Fail(const absl::Status& status, std::string_view rpc, std::string_view upstream_text) {
  // Every layer below already sanitizes the untrusted values it quotes; this is the last line
  // of defence against forged log lines (control characters escaped, length bounded).
  std::string message = Sanitize(StrCat(upstream_text, ": ", ToStd(status.message())), 2048);
  spdlog::warn("{} failed: code={} {}", rpc, absl::StatusCodeToString(status.code()), message);
  return absl::Status(status.code(), message);
}

std::string ToString(const SecretBytes& bytes) { return std::string(bytes.RevealString()); }

// Wipes the secret field of a reply once it has been serialised (best effort: the transport's
// own buffers are outside our reach).
void WipeString(std::string* s) { SecureWipe(s->data(), s->size()); }
void WipeReply(api::UnsealSecretOutput& r) { WipeString(r.mutable_plaintext()); }
void WipeReply(api::GetResourceResponse& r) { WipeString(r.mutable_resource()); }
void WipeReply(keyprovider::KeyProviderKeyWrapProtocolOutput& r) {
  WipeString(r.mutable_keyproviderkeywrapprotocoloutput());
}
template <typename T>
void WipeReply(T&) {}

template <typename Req>
absl::StatusOr<Req> Decode(std::string_view bytes, std::string_view rpc) {
  Req req;
  if (!req.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::InvalidArgumentError(StrCat(rpc, ": request is not a valid ", req.GetTypeName(), " message"));
  }
  return req;
}

template <typename Req, typename Resp>
ApiHandlers::RawHandler Raw(ApiHandlers* self,
                            absl::StatusOr<Resp> (ApiHandlers::*method)(const Req&, const CallContext&),
                            std::string_view rpc) {
  return [self, method, rpc = std::string(rpc)](std::string_view bytes,
                                                const CallContext& ctx) -> absl::StatusOr<std::string> {
    auto req = Decode<Req>(bytes, rpc);
    if (!req.ok()) return req.status();
    auto resp = (self->*method)(*req, ctx);
    if (!resp.ok()) return resp.status();
    std::string out = resp->SerializeAsString();
    WipeReply(*resp);
    return out;
  };
}

}  // namespace

absl::StatusOr<api::UnsealSecretOutput> ApiHandlers::UnsealSecret(const api::UnsealSecretInput& req,
                                                                  const CallContext& ctx) {
  auto plaintext = hub_.UnsealSecret(req.secret(), ctx);
  if (!plaintext.ok()) return Fail(plaintext.status(), "UnsealSecret", "Unseal Secret failed");
  api::UnsealSecretOutput out;
  out.set_plaintext(ToString(*plaintext));
  return out;
}

absl::StatusOr<api::GetResourceResponse> ApiHandlers::GetResource(const api::GetResourceRequest& req,
                                                                  const CallContext& ctx) {
  auto resource = hub_.GetResource(req.resourcepath(), ctx);
  if (!resource.ok()) return Fail(resource.status(), "GetResource", "Get Resource failed");
  api::GetResourceResponse out;
  out.set_resource(ToString(*resource));
  return out;
}

absl::StatusOr<api::SecureMountResponse> ApiHandlers::SecureMount(const api::SecureMountRequest& req,
                                                                  const CallContext& ctx) {
  SecureMountParams params;
  params.volume_type = req.volume_type();
  params.options.insert(req.options().begin(), req.options().end());
  params.flags.assign(req.flags().begin(), req.flags().end());
  params.mount_point = req.mount_point();
  auto status = hub_.SecureMount(params, ctx);
  if (!status.ok()) return Fail(status, "SecureMount", "Secure Mount failed");
  return api::SecureMountResponse();
}

absl::StatusOr<ext::UnmountResponse> ApiHandlers::Unmount(const ext::UnmountRequest& req, const CallContext& ctx) {
  auto status = hub_.SecureUnmount(req.mount_point(), ctx);
  if (!status.ok()) return Fail(status, "Unmount", "Secure Unmount failed");
  return ext::UnmountResponse();
}

absl::StatusOr<api::ImagePullResponse> ApiHandlers::PullImage(const api::ImagePullRequest& req,
                                                              const CallContext& ctx) {
  auto digest = hub_.PullImage(req.image_url(), req.bundle_path(), ctx);
  if (!digest.ok()) return Fail(digest.status(), "PullImage", "Image Pull error");
  api::ImagePullResponse out;
  out.set_manifest_digest(*digest);
  return out;
}

absl::StatusOr<keyprovider::KeyProviderKeyWrapProtocolOutput> ApiHandlers::UnWrapKey(
    const keyprovider::KeyProviderKeyWrapProtocolInput& req, const CallContext& ctx) {
  auto output = hub_.UnwrapKey(req.keyproviderkeywrapprotocolinput(), ctx);
  if (!output.ok()) return Fail(output.status(), "UnWrapKey", "Decrypt Image (UnwrapKey) failed");
  keyprovider::KeyProviderKeyWrapProtocolOutput out;
  out.set_keyproviderkeywrapprotocoloutput(ToString(*output));
  return out;
}

absl::StatusOr<keyprovider::KeyProviderKeyWrapProtocolOutput> ApiHandlers::WrapKey(
    const keyprovider::KeyProviderKeyWrapProtocolInput&, const CallContext&) {
  // Upstream registers WrapKey without implementing it (cdh-api.md §3.3-3.4).
  return absl::UnimplementedError("WrapKey not implemented: the data hub only unwraps image-layer keys");
}

ApiHandlers::MethodTable ApiHandlers::BuildMethodTable() {
  MethodTable table;
  table[{"api.SealedSecretService", "UnsealSecret"}] = Raw(this, &ApiHandlers::UnsealSecret, "UnsealSecret");
  table[{"api.GetResourceService", "GetResource"}] = Raw(this, &ApiHandlers::GetResource, "GetResource");
  table[{"api.SecureMountService", "SecureMount"}] = Raw(this, &ApiHandlers::SecureMount, "SecureMount");
  table[{"cdh.ext.SecureMountExtService", "Unmount"}] = Raw(this, &ApiHandlers::Unmount, "Unmount");
  table[{"api.ImagePullService", "PullImage"}] = Raw(this, &ApiHandlers::PullImage, "PullImage");
  table[{"keyprovider.KeyProviderService", "UnWrapKey"}] = Raw(this, &ApiHandlers::UnWrapKey, "UnWrapKey");
  table[{"keyprovider.KeyProviderService", "WrapKey"}] = Raw(this, &ApiHandlers::WrapKey, "WrapKey");
  return table;
}

}  // namespace cdh
