// KernelDataPathAvailable and UserspaceDataPathAvailable (storage/data_path.h): what the data
// paths need from the machine, checked without their libraries (libcryptsetup, libfuse3), so the
// daemon can report a configured path that is not available at start-up while loading the
// storage module only at the first SecureMount.
#include <fcntl.h>
#include <unistd.h>

#include "storage/data_path.h"

namespace cdh::storage {

bool KernelDataPathAvailable() {
  // The node alone proves nothing: libdevmapper creates it on first use even when the kernel
  // has no device-mapper (then opening it fails with ENODEV).
  const int fd = open("/dev/mapper/control", O_RDWR | O_CLOEXEC);
  if (fd < 0) return false;
  close(fd);
  return true;
}

bool UserspaceDataPathAvailable() {
  const int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
  if (fd < 0) return false;
  close(fd);
  return access("/dev/loop-control", F_OK) == 0;
}

}  // namespace cdh::storage
