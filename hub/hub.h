// Hub: the DataHub implementation — routes each request to the component that owns it.
// It owns its components; it does no parsing of its own beyond the resource URI.
//
// Thread-safe (components are); neither copyable nor movable.
#ifndef CDH_HUB_HUB_H_
#define CDH_HUB_HUB_H_

#include <map>
#include <memory>
#include <string>

#include "hub/data_hub.h"
#include "hub/image_service.h"
#include "resources/image/key_unwrapper.h"
#include "resources/kms/kms_provider.h"
#include "resources/resource_provider.h"
#include "resources/secret/secret_unsealer.h"

namespace cdh {

// A SecureMount volume type (cdh-api.md §11): "block-device", ... Thread-safe.
class VolumeDriver {
 public:
  virtual ~VolumeDriver() = default;
  virtual absl::Status Mount(const SecureMountParams& params, const CallContext& ctx) = 0;
  // NOT_FOUND when this driver has nothing mounted at `mount_point`.
  virtual absl::Status Unmount(const std::string& mount_point, const CallContext& ctx) {
    return absl::NotFoundError("volume driver does not unmount");
  }
};

// Declared in dependency order: later members refer to earlier ones and are destroyed first.
struct HubComponents {
  std::unique_ptr<resources::ResourceProvider> resource_provider;       // required
  std::unique_ptr<resources::KmsRegistry> kms;                          // optional
  std::unique_ptr<resources::EnvelopeDecryptor> envelope;               // optional, used by unsealer
  std::unique_ptr<resources::SecretUnsealer> unsealer;                  // required
  std::unique_ptr<resources::KeyUnwrapper> key_unwrapper;               // optional: UNIMPLEMENTED if absent
  std::map<std::string, std::unique_ptr<VolumeDriver>> volume_drivers;  // by volume_type
  std::unique_ptr<ImageService> image;                                  // optional: UNIMPLEMENTED if absent
};

class Hub : public DataHub {
 public:
  // INVALID_ARGUMENT if a required component is missing.
  static absl::StatusOr<std::unique_ptr<Hub>> New(HubComponents components);
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  absl::StatusOr<SecretBytes> UnsealSecret(std::string_view secret, const CallContext& ctx) override;
  absl::StatusOr<SecretBytes> GetResource(std::string_view resource_uri, const CallContext& ctx) override;
  absl::Status SecureMount(const SecureMountParams& params, const CallContext& ctx) override;
  absl::Status SecureUnmount(const std::string& mount_point, const CallContext& ctx) override;
  absl::StatusOr<std::string> PullImage(std::string_view image_url, std::string_view bundle_path,
                                        const CallContext& ctx) override;
  absl::StatusOr<SecretBytes> UnwrapKey(std::string_view input_json, const CallContext& ctx) override;

  resources::ResourceProvider& resource_provider() { return *components_.resource_provider; }

 private:
  explicit Hub(HubComponents components) : components_(std::move(components)) {}
  HubComponents components_;
};

}  // namespace cdh

#endif  // CDH_HUB_HUB_H_
