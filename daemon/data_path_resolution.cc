// ResolveDataPath (daemon/block_device_volume.h): the machine probes only, no storage library.
#include "daemon/block_device_volume.h"
#include "storage/data_path.h"

namespace cdh {

absl::StatusOr<DataPathChoice> ResolveDataPath(DataPathChoice choice) {
  const bool kernel =
      choice == DataPathChoice::kKernel || (choice == DataPathChoice::kAuto && storage::KernelDataPathAvailable());
  if (kernel) {
    if (!storage::KernelDataPathAvailable()) {
      return absl::FailedPreconditionError(
          "config key `secure_mount.data_path` = \"kernel\": device-mapper is not available (/dev/mapper/control)");
    }
    return DataPathChoice::kKernel;
  }
  if (choice == DataPathChoice::kUserspace && !storage::UserspaceDataPathAvailable()) {
    return absl::FailedPreconditionError(
        "config key `secure_mount.data_path` = \"userspace\": /dev/fuse or /dev/loop-control is not available");
  }
  return DataPathChoice::kUserspace;
}

}  // namespace cdh
