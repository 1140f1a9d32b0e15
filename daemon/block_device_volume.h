// The `block-device` SecureMount volume type as a hub VolumeDriver (cdh-api.md §11): adapts
// storage::BlockDeviceDriver and gives it the hub's key sources (sealed secrets through the
// SecretUnsealer, KBS URIs through the ResourceProvider) as a storage::VolumeKeyResolver, so the
// storage module never depends on the hub.
#ifndef CDH_DAEMON_BLOCK_DEVICE_VOLUME_H_
#define CDH_DAEMON_BLOCK_DEVICE_VOLUME_H_

#include <memory>

#include "absl/status/statusor.h"
#include "daemon/config.h"
#include "hub/hub.h"
#include "resources/resource_provider.h"
#include "resources/secret/secret_unsealer.h"

namespace cdh {

// Headers go to config.LuksHeadersDir() (upstream's /run/confidential-containers/cdh/luks-headers),
// FUSE mounts to <base_dir>/storage. The data path follows config.secure_mount_data_path:
// kernel (dm-crypt/dm-integrity), userspace (AES-XTS behind FUSE), or auto (kernel when
// /dev/mapper/control opens, else userspace); it is logged. FAILED_PRECONDITION naming
// `secure_mount.data_path` when the configured path is not available here. `unsealer` and `provider` must outlive the
// driver (the Hub owns all three and destroys volume drivers first, which tears every volume down).
//
// Link-time seam (daemon/CMakeLists.txt): every binary but the daemon links the driver itself
// (daemon/block_device_volume.cc, libcryptsetup and libfuse3 linked in). The daemon links
// daemon/block_device_volume_deferred.cc instead: it resolves and logs the data path at once (so a
// configured path that is not available is still a start-up error) and loads the storage module
// cdh-storage.so beside it, which holds the driver and its libraries, at the first SecureMount.
// That mount fails with FAILED_PRECONDITION when the module cannot be loaded.
absl::StatusOr<std::unique_ptr<VolumeDriver>> NewBlockDeviceVolumeDriver(const CdhConfig& config,
                                                                         resources::SecretUnsealer& unsealer,
                                                                         resources::ResourceProvider& provider);

// The data path `choice` means on this machine, kKernel or kUserspace: auto is the kernel path
// wherever device-mapper is (every kata guest), else userspace. A path named in the configuration
// must be available: FAILED_PRECONDITION naming `secure_mount.data_path` otherwise (a start-up
// error, not a failure at the first mount). Probes the device nodes only.
absl::StatusOr<DataPathChoice> ResolveDataPath(DataPathChoice choice);

// The storage module's interface (daemon/storage_module.cc), for the deferred driver and the
// module only: file name (beside the executable) and its entry point, which runs the
// NewBlockDeviceVolumeDriver of daemon/block_device_volume.cc and stores the result in `*out`.
inline constexpr char kStorageModuleFile[] = "cdh-storage.so";
inline constexpr char kStorageModuleNewDriver[] = "cdh_storage_new_block_device_driver";
using StorageModuleNewDriver = void (*)(const CdhConfig* config, resources::SecretUnsealer* unsealer,
                                        resources::ResourceProvider* provider,
                                        absl::StatusOr<std::unique_ptr<VolumeDriver>>* out);

}  // namespace cdh

#endif  // CDH_DAEMON_BLOCK_DEVICE_VOLUME_H_
