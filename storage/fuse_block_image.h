// FuseBlockImage: the userspace data path's plaintext view of a LUKS2 data segment.
//
// A FUSE (libfuse3) filesystem mounted on a private directory holds one file, `image`, whose
// bytes are the decrypted data segment: reads pread the ciphertext from the backing device and
// decrypt it with the XtsEngine; writes encrypt and pwrite. Sizes and offsets are bytes of the
// data segment (byte 0 = segment offset on the device); the file size is the segment size.
// Requests need not be sector-aligned (edge sectors are read, patched and rewritten), though
// the loop device on top of it only issues whole 512/4096-byte sectors.
//
// The file is opened with FUSE direct I/O: no second page cache under the filesystem's own.
// Not copyable or movable; thread-safe (FUSE serves requests on several threads). Stop() (or
// the destructor) unmounts and joins the FUSE loop; whatever sits on top (loop device, ext4)
// must be gone first. Abandon() is the shutdown for an image still in use.
#ifndef CDH_STORAGE_FUSE_BLOCK_IMAGE_H_
#define CDH_STORAGE_FUSE_BLOCK_IMAGE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "storage/xts_engine.h"

struct fuse;

namespace cdh::storage {

struct FuseBlockImageOptions {
  std::string mount_dir;      // existing empty directory for the FUSE mount
  int device_fd = -1;         // backing device (or image file), opened O_RDWR; not owned
  uint64_t data_offset = 0;   // bytes: the segment's offset on the device
  uint64_t data_size = 0;     // bytes: the segment's size, a multiple of the sector size
  size_t sector_size = 4096;  // bytes: 512 or 4096
  bool read_only = false;
};

class FuseBlockImage {
 public:
  // `engine` (not owned, outlives this) encrypts/decrypts.
  // INVALID_ARGUMENT for bad options or a null engine; UNAVAILABLE if FUSE cannot mount (no /dev/fuse).
  static absl::StatusOr<std::unique_ptr<FuseBlockImage>> Start(const FuseBlockImageOptions& options, XtsEngine* engine);
  // The same FUSE stack with no encryption (bytes pass through unchanged): only the baseline of
  // benchmarks and tests that measure what encryption costs. Codes as Start.
  static absl::StatusOr<std::unique_ptr<FuseBlockImage>> StartPlaintextForTest(const FuseBlockImageOptions& options);
  ~FuseBlockImage();
  FuseBlockImage(const FuseBlockImage&) = delete;
  FuseBlockImage& operator=(const FuseBlockImage&) = delete;

  // Path of the plaintext image file.
  std::string image_path() const { return options_.mount_dir + "/image"; }
  uint64_t size() const { return options_.data_size; }  // bytes
  bool read_only() const { return options_.read_only; }
  // Unmounts the FUSE filesystem and joins its threads. Idempotent.
  void Stop();
  // Shutdown while something still uses the image (a loop device under a lazily detached, busy
  // mount): detaches the mount from the namespace now and hands `image` and the `engine` it was
  // started with to its own FUSE loop thread, which keeps serving the remaining users and frees
  // both once the kernel ends the session (when the last user has gone, or at process exit).
  // options.device_fd must stay open until then. Never waits. A stopped image is just destroyed.
  static void Abandon(std::unique_ptr<FuseBlockImage> image, std::unique_ptr<XtsEngine> engine);

  // Plaintext I/O on the segment (also what the FUSE callbacks call). Return bytes done or -errno.
  int Read(uint64_t offset, size_t size, uint8_t* out);
  int Write(uint64_t offset, size_t size, const uint8_t* in);

 private:
  static absl::StatusOr<std::unique_ptr<FuseBlockImage>> StartWithEngine(const FuseBlockImageOptions& options,
                                                                         XtsEngine* engine);
  FuseBlockImage(const FuseBlockImageOptions& options, XtsEngine* engine) : options_(options), engine_(engine) {}
  int ReadAligned(uint64_t offset, size_t size, uint8_t* out);
  int WriteAligned(uint64_t offset, size_t size, const uint8_t* in);
  // The body of loop_thread_: serves until the session ends, then frees an abandoned image.
  void Serve();
  // Takes the mount out of the namespace (lazily), which ends the FUSE session once nothing
  // holds the filesystem any more.
  void DetachMount();

  const FuseBlockImageOptions options_;
  XtsEngine* const engine_;
  absl::Mutex unaligned_mu_;  // serialises read-modify-write of partial sectors
  ::fuse* fuse_ = nullptr;    // set by New before the loop starts; then only Stop or Serve (abandoned) end it
  std::thread loop_thread_;
  absl::Mutex stop_mu_;  // held through Stop and Abandon; taken before state_mu_
  bool stopped_ ABSL_GUARDED_BY(stop_mu_) = false;
  absl::Mutex state_mu_;  // what the loop thread and the stopping thread tell each other
  bool loop_ended_ ABSL_GUARDED_BY(state_mu_) = false;
  bool abandoned_ ABSL_GUARDED_BY(state_mu_) = false;
  std::unique_ptr<XtsEngine> abandoned_engine_ ABSL_GUARDED_BY(state_mu_);  // freed with an abandoned image
};

}  // namespace cdh::storage

#endif  // CDH_STORAGE_FUSE_BLOCK_IMAGE_H_
