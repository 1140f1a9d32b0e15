// DataPath: turns an unlocked LUKS2 volume into a plaintext block device (cdh-api.md §11): two
// data paths behind one interface.
//
//  - UserspaceDataPath: our XtsEngine behind a FUSE image file, loop-attached (no
//    device-mapper needed; the build machines' path).
//  - KernelDataPath: dm-crypt (and dm-integrity for integrity volumes) through libcryptsetup,
//    when /dev/mapper/control exists. Tested in a real guest kernel under qemu (tests/guest).
//
// Implementations are thread-safe; OpenVolume objects are not (the driver serialises them).
#ifndef CDH_STORAGE_DATA_PATH_H_
#define CDH_STORAGE_DATA_PATH_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/secret_bytes.h"
#include "storage/luks2_metadata.h"

namespace cdh::storage {

// A plaintext block device that exists until Close() (or destruction).
class OpenVolume {
 public:
  virtual ~OpenVolume() = default;
  // "/dev/loopN" or "/dev/mapper/<name>".
  virtual const std::string& device_path() const = 0;
  // Removes the device. Whatever used it (a mount) must be gone. Idempotent.
  virtual absl::Status Close() = 0;
  // Shutdown while the device is still in use (a lazily detached, busy mount): detach what can
  // be detached without waiting and hand the rest to the kernel (a deferred removal) or to its
  // own threads (the userspace data path), which end it when the last user goes or the process
  // exits. Never waits; the object can then be destroyed. The request's device_fd must stay
  // open until the process exits.
  virtual void Abandon() = 0;
};

struct DataPathRequest {
  int device_fd = -1;                       // the encrypted device, O_RDWR; stays owned by the caller and
                                            // open at least as long as the OpenVolume
  std::string device_path;                  // its path
  uint64_t device_size = 0;                 // bytes
  const Luks2Metadata* metadata = nullptr;  // validated; must outlive the call
  std::string header_path;                  // detached header file, empty if the header is on the device
  std::string name;                         // volume name (mapperName)
  // The volume was just formatted with integrity: every sector is written once (zeros) before
  // use, so that reads of sectors nobody wrote yet return zeros instead of failing their tag
  // check (what `cryptsetup luksFormat --integrity` does unless --integrity-no-wipe).
  bool wipe = false;
};

class DataPath {
 public:
  virtual ~DataPath() = default;
  // Whether volumes with an integrity segment (Luks2Metadata::integrity) can be opened and
  // formatted on this path (`dataIntegrity=true`).
  virtual bool SupportsIntegrity() const = 0;
  virtual std::string_view name() const = 0;
  // UNAVAILABLE when the mechanism is missing (FUSE, loop, dm) or the device fails;
  // FAILED_PRECONDITION for an integrity volume on a path without integrity; INTERNAL otherwise.
  virtual absl::StatusOr<std::unique_ptr<OpenVolume>> Open(const DataPathRequest& request,
                                                           const SecretBytes& volume_key) = 0;
};

struct UserspaceDataPathOptions {
  std::string runtime_dir;  // private directory for the FUSE mounts (created 0700)
  unsigned engine_threads = 2;
};

std::unique_ptr<DataPath> NewUserspaceDataPath(UserspaceDataPathOptions options);
// /dev/fuse opens and /dev/loop-control exists: what the userspace path needs besides root.
bool UserspaceDataPathAvailable();

// dm-crypt through libcryptsetup, activating from the validated metadata copy (a sealed memfd
// as detached header), so the kernel path also never re-reads a host-controlled LUKS2 header.
// Integrity volumes get a dm-integrity device (`<name>_dif`, with its journal) below the
// dm-crypt one; its superblock on the data device is read and checked by the kernel.
// The build machines have no device-mapper: tests/guest runs this path in a guest kernel.
std::unique_ptr<DataPath> NewKernelDataPath();
bool KernelDataPathAvailable();  // /dev/mapper/control exists and opens (a driver is behind it)

}  // namespace cdh::storage

#endif  // CDH_STORAGE_DATA_PATH_H_
