// LoopDevice: a kernel loop device over a file, attached atomically with LOOP_CONFIGURE and
// marked autoclear, so the kernel detaches it once the last user (our fd, a mount) lets go:
// a crash of the daemon cannot leak a loop device beyond the mounts that still use it.
//
// Move-only handle; not thread-safe. Loop devices are machine-wide and few (8 on the build
// machines): hold one only as long as needed.
#ifndef CDH_STORAGE_LOOP_DEVICE_H_
#define CDH_STORAGE_LOOP_DEVICE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace cdh::storage {

class LoopDevice {
 public:
  // `block_size` in bytes: the logical block size the device shows (512 or 4096, the LUKS2
  // sector size). UNAVAILABLE if no loop device can be had (none free, no /dev/loop-control).
  static absl::StatusOr<std::unique_ptr<LoopDevice>> Attach(const std::string& backing_file, uint32_t block_size,
                                                            bool read_only);
  ~LoopDevice();
  LoopDevice(const LoopDevice&) = delete;
  LoopDevice& operator=(const LoopDevice&) = delete;

  const std::string& path() const { return path_; }  // "/dev/loopN"
  // Detaches now if no mount holds the device (LOOP_CLR_FD); otherwise autoclear does it when
  // the mount goes. Closes our fd. Idempotent.
  void Release();

 private:
  LoopDevice(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::string path_;
  int fd_ = -1;
};

// Sets /sys/block/loopN/queue/read_ahead_kb (best effort; a tuning, not a requirement).
void SetReadAheadKb(const std::string& loop_path, unsigned kb);

}  // namespace cdh::storage

#endif  // CDH_STORAGE_LOOP_DEVICE_H_
