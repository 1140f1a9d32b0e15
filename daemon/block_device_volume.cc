#include "daemon/block_device_volume.h"

#include <spdlog/spdlog.h>

#include "common/status_macros.h"
#include "resources/resource_uri.h"
#include "storage/block_device_driver.h"
#include "storage/data_path.h"

namespace cdh {
namespace {

class HubKeyResolver : public storage::VolumeKeyResolver {
 public:
  HubKeyResolver(resources::SecretUnsealer& unsealer, resources::ResourceProvider& provider)
      : unsealer_(unsealer), provider_(provider) {}
  absl::StatusOr<SecretBytes> Unseal(std::string_view sealed, const CallContext& ctx) override {
    return unsealer_.Unseal(sealed, ctx);
  }
  absl::StatusOr<SecretBytes> GetResource(std::string_view uri, const CallContext& ctx) override {
    CDH_ASSIGN_OR_RETURN(resources::ResourceUri parsed, resources::ResourceUri::Parse(uri));
    return provider_.GetResource(parsed, ctx);
  }

 private:
  resources::SecretUnsealer& unsealer_;
  resources::ResourceProvider& provider_;
};

class BlockDeviceVolume : public VolumeDriver {
 public:
  BlockDeviceVolume(std::unique_ptr<HubKeyResolver> resolver, std::unique_ptr<storage::BlockDeviceDriver> driver)
      : resolver_(std::move(resolver)), driver_(std::move(driver)) {}
  ~BlockDeviceVolume() override { driver_->UnmountAll(); }  // daemon shutdown: tear volumes down

  absl::Status Mount(const SecureMountParams& params, const CallContext& ctx) override {
    // `flags` are ignored, as upstream does (cdh-api.md §11.1).
    absl::Status s = driver_->Mount(params.options, params.mount_point, ctx);
    if (s.ok()) spdlog::info("secure mount: block-device mounted at {}", params.mount_point);
    return s;
  }
  absl::Status Unmount(const std::string& mount_point, const CallContext& ctx) override {
    return driver_->Unmount(mount_point, ctx);
  }

 private:
  std::unique_ptr<HubKeyResolver> resolver_;  // used by driver_; declared first, destroyed last
  std::unique_ptr<storage::BlockDeviceDriver> driver_;
};

absl::StatusOr<std::unique_ptr<storage::DataPath>> NewDataPath(DataPathChoice choice, const std::string& runtime_dir) {
  CDH_ASSIGN_OR_RETURN(DataPathChoice resolved, ResolveDataPath(choice));
  if (resolved == DataPathChoice::kKernel) return storage::NewKernelDataPath();
  return storage::NewUserspaceDataPath({.runtime_dir = runtime_dir, .engine_threads = 2});
}

}  // namespace

absl::StatusOr<std::unique_ptr<VolumeDriver>> NewBlockDeviceVolumeDriver(const CdhConfig& config,
                                                                         resources::SecretUnsealer& unsealer,
                                                                         resources::ResourceProvider& provider) {
  auto resolver = std::make_unique<HubKeyResolver>(unsealer, provider);
  storage::BlockDeviceDriverConfig dc;
  dc.header_dir = config.LuksHeadersDir();
  dc.runtime_dir = config.base_dir + "/storage";
  CDH_ASSIGN_OR_RETURN(std::unique_ptr<storage::DataPath> path,
                       NewDataPath(config.secure_mount_data_path, dc.runtime_dir));
  spdlog::info("secure mount: block-device uses the {} data path (secure_mount.data_path = \"{}\")", path->name(),
               DataPathChoiceName(config.secure_mount_data_path));
  CDH_ASSIGN_OR_RETURN(auto driver, storage::BlockDeviceDriver::New(dc, std::move(path), resolver.get()));
  return std::unique_ptr<VolumeDriver>(new BlockDeviceVolume(std::move(resolver), std::move(driver)));
}

}  // namespace cdh
