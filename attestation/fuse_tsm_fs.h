// FuseTsmFs: a configfs-tsm report root served by a real file system (FUSE, libfuse3), for tests
// on machines without a TDX or SNP guest kernel. It stands in for configfs, which cannot run
// here. The entries' semantics come from a FakeTsmFs (generation counter, lazy outblob, the
// 64-byte inblob check); this layer adds what only a real file system shows, as the kernel's
// configfs does it (Linux fs/configfs/file.c, Documentation/ABI/testing/configfs-tsm-report):
//   - text attributes (`provider`, `generation`) report st_size 4096 (a page), binary ones
//     (`inblob`, `outblob`, `auxblob`) st_size 0, whatever their content;
//   - reads are served from a snapshot taken at the first read of an open file (configfs fills
//     its buffer once per open); reads past the content return 0 bytes;
//   - each write(2) to `inblob` is one write to the entry;
//   - mkdir/rmdir of `<root>/<entry>` create and remove entries; errors come back as errno
//     (ENOENT, EINVAL, ENXIO, EIO, EFBIG).
// The real PosixTsmFs (and the attesters over it) then run against `mount_dir()` through
// open/read/write/mkdir/rmdir, exactly as on a guest.
//
// Needs root and /dev/fuse (Start returns UNAVAILABLE otherwise). Neither copyable nor movable;
// thread-safe (FUSE serves requests on several threads). The destructor unmounts.
#ifndef CDH_ATTESTATION_FUSE_TSM_FS_H_
#define CDH_ATTESTATION_FUSE_TSM_FS_H_

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "attestation/fake_tsm_fs.h"

struct fuse;

namespace cdh::attestation {

class FuseTsmFs {
 public:
  // Mounts over `mount_dir` (an existing empty directory). `text_st_size` and `binary_st_size`
  // are the sizes getattr reports (the kernel's 4096 and 0 by default).
  static absl::StatusOr<std::unique_ptr<FuseTsmFs>> Start(std::shared_ptr<FakeTsmFs> backing, std::string mount_dir,
                                                          off_t text_st_size = 4096, off_t binary_st_size = 0);
  ~FuseTsmFs();
  FuseTsmFs(const FuseTsmFs&) = delete;
  FuseTsmFs& operator=(const FuseTsmFs&) = delete;

  const std::string& mount_dir() const { return mount_dir_; }
  FakeTsmFs& backing() { return *backing_; }
  off_t text_st_size() const { return text_st_size_; }
  off_t binary_st_size() const { return binary_st_size_; }

 private:
  FuseTsmFs(std::shared_ptr<FakeTsmFs> backing, std::string mount_dir, off_t text_st_size, off_t binary_st_size)
      : backing_(std::move(backing)),
        mount_dir_(std::move(mount_dir)),
        text_st_size_(text_st_size),
        binary_st_size_(binary_st_size) {}

  std::shared_ptr<FakeTsmFs> backing_;
  std::string mount_dir_;
  off_t text_st_size_;
  off_t binary_st_size_;
  struct fuse* fuse_ = nullptr;
  std::thread loop_thread_;
};

}  // namespace cdh::attestation

#endif  // CDH_ATTESTATION_FUSE_TSM_FS_H_
