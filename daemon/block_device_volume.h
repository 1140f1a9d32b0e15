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
absl::StatusOr<std::unique_ptr<VolumeDriver>> NewBlockDeviceVolumeDriver(const CdhConfig& config,
                                                                         resources::SecretUnsealer& unsealer,
                                                                         resources::ResourceProvider& provider);

}  // namespace cdh

#endif  // CDH_DAEMON_BLOCK_DEVICE_VOLUME_H_
