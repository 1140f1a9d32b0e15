#include "hub/hub.h"

#include <spdlog/spdlog.h>

#include "common/status_macros.h"
#include "common/strings.h"

namespace cdh {

absl::StatusOr<std::unique_ptr<Hub>> Hub::New(HubComponents components) {
  if (components.resource_provider == nullptr || components.unsealer == nullptr) {
    return absl::InvalidArgumentError("hub needs a resource provider and a secret unsealer");
  }
  return std::unique_ptr<Hub>(new Hub(std::move(components)));
}

absl::StatusOr<SecretBytes> Hub::UnsealSecret(std::string_view secret, const CallContext& ctx) {
  return components_.unsealer->Unseal(secret, ctx);
}

absl::StatusOr<SecretBytes> Hub::GetResource(std::string_view resource_uri, const CallContext& ctx) {
  CDH_ASSIGN_OR_RETURN(resources::ResourceUri uri, resources::ResourceUri::Parse(resource_uri));
  // A host named in the URI is never contacted (see hub/authority_guard.h).
  return components_.resource_provider->GetResource(uri, ctx);
}

absl::Status Hub::SecureMount(const SecureMountParams& params, const CallContext& ctx) {
  auto it = components_.volume_drivers.find(params.volume_type);
  if (it == components_.volume_drivers.end()) {
    std::vector<std::string> names;
    for (const auto& [name, driver] : components_.volume_drivers) names.push_back(name);
    return absl::UnimplementedError(
        StrCat("volume type `", Sanitize(params.volume_type, 64),
               "` is not supported (available: ", names.empty() ? std::string("none") : StrJoin(names, ", "), ")"));
  }
  return it->second->Mount(params, ctx);
}

absl::Status Hub::SecureUnmount(const std::string& mount_point, const CallContext& ctx) {
  for (const auto& [name, driver] : components_.volume_drivers) {
    absl::Status s = driver->Unmount(mount_point, ctx);
    if (s.code() != absl::StatusCode::kNotFound) return s;
  }
  return absl::NotFoundError(StrCat("no secure mount at ", mount_point.substr(0, 256)));
}

absl::StatusOr<std::string> Hub::PullImage(std::string_view image_url, std::string_view bundle_path,
                                           const CallContext& ctx) {
  if (components_.image == nullptr) return absl::UnimplementedError("PullImage is not configured in this data hub");
  return components_.image->Pull(image_url, bundle_path, ctx);
}

absl::StatusOr<SecretBytes> Hub::UnwrapKey(std::string_view input_json, const CallContext& ctx) {
  if (components_.key_unwrapper == nullptr) {
    return absl::UnimplementedError("UnWrapKey (image-layer key unwrapping) is not configured");
  }
  return components_.key_unwrapper->Unwrap(input_json, ctx);
}

}  // namespace cdh
