// BlockDeviceDriver: the `block-device` SecureMount volume type with LUKS2 (cdh-api.md §11).
//
// Mount: parse options (block_device_options.h) → resolve the device and the key → for
// sourceType=empty, format a detached-header LUKS2 volume (header file in `header_dir`, as
// upstream §11.3; cheap KDF; with dataIntegrity, hmac-sha256 dm-integrity) → read the
// metadata region once, validate it → recover the volume key from that copy → open a
// plaintext device through the DataPath (a freshly formatted integrity volume is wiped once) →
// targetType device: symlink mount_point → device; fileSystem: mkfs.ext4 (empty only, caller's
// mkfsOpts; with integrity, no lazy inode-table init) and mount ext4 with MS_NOATIME.
//
// Lifecycle:
//  - Mounts are serialised; a call waits at most until its deadline (DEADLINE_EXCEEDED).
//  - A retry for a mount point that is already mounted with the same device and options returns
//    OK without touching anything (no second format); a different request for it, or any request
//    for a device that one of our volumes already uses, is FAILED_PRECONDITION.
//  - Any failure undoes every step done so far (unmount, device removal, FUSE stop); nothing
//    stays half-mounted. A header file this call created is removed again.
//  - Unmount(mount_point) undoes one volume; UnmountAll() (daemon shutdown) undoes all; a busy
//    mount is then detached lazily and its plaintext device left to the process exit.
//  - The detached header of a formatted (sourceType=empty) volume is kept in `header_dir` (guest
//    tmpfs) with a binding to its device: device number and the kernel's disk sequence number
//    (block devices) or file system and inode (files), and the size. sourceType=encrypted reuses
//    it only while the binding holds and the device has no LUKS header of its own; otherwise the
//    header is deleted and the device's own header is read (as upstream always does, cdh-api.md
//    §11.3). So an ephemeral volume can be unmounted and reopened during this boot, and a header
//    never opens another volume that later appears at the same path or device number.
//
// Codes (docs/errors.md): INVALID_ARGUMENT bad option, hostile header, or sourceType=empty on a
// device whose size is not a whole number of 4096-byte sectors (nothing is mounted);
// UNIMPLEMENTED zfs;
// FAILED_PRECONDITION dataIntegrity on a path without integrity, an integrity volume on such a
// path, dataIntegrity=true for a volume without integrity, mount point in use or missing, a
// mapperName that already exists, an ext4 mount that fails after the volume opened;
// PERMISSION_DENIED the key opens no keyslot; NOT_FOUND missing device or key file;
// UNAVAILABLE FUSE/loop/dm missing or I/O failure; DEADLINE_EXCEEDED; INTERNAL a bug.
// Thread-safe; neither copyable nor movable.
#ifndef CDH_STORAGE_BLOCK_DEVICE_DRIVER_H_
#define CDH_STORAGE_BLOCK_DEVICE_DRIVER_H_

#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "common/call_context.h"
#include "common/timed_turn.h"
#include "storage/block_device_options.h"
#include "storage/data_path.h"
#include "storage/luks2_metadata.h"
#include "storage/volume_key_resolver.h"

namespace cdh::storage {

struct BlockDeviceDriverConfig {
  std::string header_dir = "/run/confidential-containers/cdh/luks-headers";  // detached headers (§11.3)
  std::string runtime_dir = "/run/confidential-containers/cdh/storage";      // FUSE mounts
  std::string sysfs_dir = "/sys";  // for deviceId → <sysfs_dir>/dev/block/MAJ:MIN/uevent
  std::string dev_dir = "/dev";    // DEVNAME=x gives <dev_dir>/x
  Luks2Limits limits;
  uint64_t header_file_size = 16 << 20;  // bytes, as upstream
};

class BlockDeviceDriver {
 public:
  // `data_path` is the userspace or kernel path (see data_path.h). `resolver` may be null: then
  // only file:// keys and absent keys work (others FAILED_PRECONDITION).
  static absl::StatusOr<std::unique_ptr<BlockDeviceDriver>> New(BlockDeviceDriverConfig config,
                                                                std::unique_ptr<DataPath> data_path,
                                                                VolumeKeyResolver* resolver);
  ~BlockDeviceDriver();
  BlockDeviceDriver(const BlockDeviceDriver&) = delete;
  BlockDeviceDriver& operator=(const BlockDeviceDriver&) = delete;

  // `options` as received in SecureMountRequest (cdh-api.md §11.1); `mount_point` the target.
  absl::Status Mount(const std::map<std::string, std::string>& options, const std::string& mount_point,
                     const CallContext& ctx);
  // NOT_FOUND if nothing of ours is mounted there; FAILED_PRECONDITION if it is busy.
  absl::Status Unmount(const std::string& mount_point, const CallContext& ctx);
  // Tears every volume down (lazy unmount for busy ones). Called at shutdown and by the destructor.
  void UnmountAll();

 private:
  struct Volume;
  BlockDeviceDriver(BlockDeviceDriverConfig config, std::unique_ptr<DataPath> data_path, VolumeKeyResolver* resolver);
  absl::Status MountLocked(const BlockDeviceOptions& opts, const std::string& device, const std::string& fingerprint,
                           const std::string& mount_point, const CallContext& ctx) ABSL_EXCLUSIVE_LOCKS_REQUIRED(turn_);
  absl::StatusOr<std::string> ResolveDevicePath(const BlockDeviceOptions& opts) const;
  absl::StatusOr<SecretBytes> ResolveKey(const KeySource& key, const CallContext& ctx);
  absl::Status TearDown(Volume& v, bool lazy);

  const BlockDeviceDriverConfig config_;
  const std::unique_ptr<DataPath> data_path_;
  VolumeKeyResolver* const resolver_;
  TimedTurn turn_;  // serialises Mount/Unmount, each whole (taken within the caller's deadline)
  std::map<std::string, std::unique_ptr<Volume>> volumes_ ABSL_GUARDED_BY(turn_);  // by mount point
  uint64_t next_id_ ABSL_GUARDED_BY(turn_) = 0;
};

}  // namespace cdh::storage

#endif  // CDH_STORAGE_BLOCK_DEVICE_DRIVER_H_
