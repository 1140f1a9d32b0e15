#include "storage/loop_device.h"

#include <fcntl.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "common/strings.h"

namespace cdh::storage {

absl::StatusOr<std::unique_ptr<LoopDevice>> LoopDevice::Attach(const std::string& backing_file, uint32_t block_size,
                                                               bool read_only) {
  const int backing = open(backing_file.c_str(), (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
  if (backing < 0) return absl::UnavailableError(StrCat("cannot open ", backing_file, ": ", std::strerror(errno)));
  const int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
  if (ctl < 0) {
    close(backing);
    return absl::UnavailableError(StrCat("no /dev/loop-control: ", std::strerror(errno)));
  }
  absl::Status last = absl::UnavailableError("no free loop device");
  // Another process may take the free device between GET_FREE and CONFIGURE: retry a few times.
  for (int attempt = 0; attempt < 8; ++attempt) {
    const int n = ioctl(ctl, LOOP_CTL_GET_FREE);
    if (n < 0) {
      last = absl::UnavailableError(StrCat("no free loop device: ", std::strerror(errno)));
      break;
    }
    const std::string path = StrCat("/dev/loop", n);
    const int fd = open(path.c_str(), (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
    if (fd < 0) {
      last = absl::UnavailableError(StrCat("cannot open ", path, ": ", std::strerror(errno)));
      continue;
    }
    loop_config cfg{};
    cfg.fd = static_cast<uint32_t>(backing);
    cfg.block_size = block_size;
    cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR | (read_only ? LO_FLAGS_READ_ONLY : 0);
    std::strncpy(reinterpret_cast<char*>(cfg.info.lo_file_name), backing_file.c_str(), LO_NAME_SIZE - 1);
    if (ioctl(fd, LOOP_CONFIGURE, &cfg) == 0) {
      close(ctl);
      close(backing);  // the loop device holds its own reference
      return std::unique_ptr<LoopDevice>(new LoopDevice(path, fd));
    }
    last = absl::UnavailableError(StrCat("LOOP_CONFIGURE on ", path, " failed: ", std::strerror(errno)));
    close(fd);
    if (errno != EBUSY) break;
  }
  close(ctl);
  close(backing);
  return last;
}

LoopDevice::~LoopDevice() { Release(); }

void LoopDevice::Release() {
  if (fd_ < 0) return;
  ioctl(fd_, LOOP_CLR_FD, 0);  // EBUSY while mounted: autoclear detaches at unmount instead
  close(fd_);
  fd_ = -1;
}

void SetReadAheadKb(const std::string& loop_path, unsigned kb) {
  const auto slash = loop_path.rfind('/');
  std::ofstream f(StrCat("/sys/block/", loop_path.substr(slash + 1), "/queue/read_ahead_kb"));
  f << kb;
}

}  // namespace cdh::storage
