// The module cdh-storage.so: the block-device SecureMount driver with the storage libraries, for
// the daemon, loaded at the first SecureMount by daemon/block_device_volume_deferred.cc. It
// carries its own copy of the driver and the storage code (daemon/CMakeLists.txt) and binds its
// calls to that copy (-Bsymbolic-functions), so NewBlockDeviceVolumeDriver here is the one of
// daemon/block_device_volume.cc, not the daemon's deferring one. What it uses of the rest of the
// daemon (the configuration, the unsealer, the resource URI parser) it takes from the daemon.
#include <type_traits>

#include "daemon/block_device_volume.h"

extern "C" {

__attribute__((visibility("default"))) void cdh_storage_new_block_device_driver(
    const cdh::CdhConfig* config, cdh::resources::SecretUnsealer* unsealer, cdh::resources::ResourceProvider* provider,
    absl::StatusOr<std::unique_ptr<cdh::VolumeDriver>>* out) {
  *out = cdh::NewBlockDeviceVolumeDriver(*config, *unsealer, *provider);
}

}  // extern "C"

static_assert(std::is_same_v<decltype(&cdh_storage_new_block_device_driver), cdh::StorageModuleNewDriver>);
