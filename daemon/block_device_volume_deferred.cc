// NewBlockDeviceVolumeDriver (daemon/block_device_volume.h) in the daemon: the storage libraries
// (libcryptsetup, libfuse3 and theirs) are loaded with the module cdh-storage.so at the first
// SecureMount, not at start-up.
#include <spdlog/spdlog.h>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/module_loader.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "daemon/block_device_volume.h"
#include "storage/block_device_options.h"

namespace cdh {
namespace {

// Holds what the real driver is built from until the first mount. Thread-safe: the driver is
// built once under `mu_`; mounts and unmounts then run on it concurrently, as on the real one.
class DeferredBlockDeviceVolume : public VolumeDriver {
 public:
  DeferredBlockDeviceVolume(const CdhConfig& config, resources::SecretUnsealer& unsealer,
                            resources::ResourceProvider& provider)
      : config_(config), unsealer_(unsealer), provider_(provider) {}

  absl::Status Mount(const SecureMountParams& params, const CallContext& ctx) override {
    // Malformed options get their INVALID_ARGUMENT whether or not the module can be loaded.
    CDH_RETURN_IF_ERROR(storage::ParseBlockDeviceOptions(params.options).status());
    CDH_ASSIGN_OR_RETURN(VolumeDriver * driver, Driver());
    return driver->Mount(params, ctx);
  }
  absl::Status Unmount(const std::string& mount_point, const CallContext& ctx) override {
    VolumeDriver* driver = nullptr;
    {
      absl::MutexLock lock(&mu_);
      driver = driver_.get();
    }
    // Nothing was ever mounted: answer as the driver does, without loading it.
    if (driver == nullptr) return absl::NotFoundError(StrCat("no secure mount at ", Sanitize(mount_point)));
    return driver->Unmount(mount_point, ctx);
  }

 private:
  absl::StatusOr<VolumeDriver*> Driver() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    if (driver_ != nullptr) return driver_.get();
    CDH_ASSIGN_OR_RETURN(StorageModuleNewDriver entry,
                         ModuleEntry<StorageModuleNewDriver>(kStorageModuleFile, kStorageModuleNewDriver,
                                                             "SecureMount support (libcryptsetup, libfuse3)"));
    absl::StatusOr<std::unique_ptr<VolumeDriver>> driver = absl::InternalError("cdh-storage.so returned nothing");
    entry(&config_, &unsealer_, &provider_, &driver);
    if (!driver.ok()) return driver.status();
    driver_ = std::move(driver).value();
    return driver_.get();
  }

  const CdhConfig config_;
  resources::SecretUnsealer& unsealer_;
  resources::ResourceProvider& provider_;
  absl::Mutex mu_;
  std::unique_ptr<VolumeDriver> driver_ ABSL_GUARDED_BY(mu_);  // destroyed first: tears every volume down
};

}  // namespace

absl::StatusOr<std::unique_ptr<VolumeDriver>> NewBlockDeviceVolumeDriver(const CdhConfig& config,
                                                                         resources::SecretUnsealer& unsealer,
                                                                         resources::ResourceProvider& provider) {
  CDH_ASSIGN_OR_RETURN(DataPathChoice path, ResolveDataPath(config.secure_mount_data_path));
  spdlog::info("secure mount: block-device uses the {} data path (secure_mount.data_path = \"{}\")",
               DataPathChoiceName(path), DataPathChoiceName(config.secure_mount_data_path));
  return std::unique_ptr<VolumeDriver>(new DeferredBlockDeviceVolume(config, unsealer, provider));
}

}  // namespace cdh
