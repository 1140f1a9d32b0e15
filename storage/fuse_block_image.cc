#define FUSE_USE_VERSION 312
#include "storage/fuse_block_image.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fuse3/fuse.h>

#include "common/strings.h"
#include "storage/aligned_buffer.h"
#include "storage/process.h"

namespace cdh::storage {
namespace {

constexpr const char* kImageName = "image";
constexpr size_t kMaxIo = 1 << 20;  // bytes per FUSE request (max_read / max_write)

FuseBlockImage* Self() { return static_cast<FuseBlockImage*>(fuse_get_context()->private_data); }

// Per-thread scratch for encrypting writes (the caller's buffer is const) and for partial
// sectors; reused across calls, wiped when the thread ends (AlignedBuffer).
thread_local AlignedBuffer tls_scratch;

uint8_t* Scratch(size_t size) {
  if (tls_scratch.size() < size) {
    auto b = AlignedBuffer::Allocate(std::max(size, kMaxIo));
    if (!b.ok()) return nullptr;
    tls_scratch = std::move(*b);
  }
  return tls_scratch.data();
}

int PreadAll(int fd, uint8_t* buf, size_t size, uint64_t off) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = pread(fd, buf + done, size - done, static_cast<off_t>(off + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -errno;
    if (n == 0) return -EIO;  // the device is shorter than its segment
    done += static_cast<size_t>(n);
  }
  return 0;
}

int PwriteAll(int fd, const uint8_t* buf, size_t size, uint64_t off) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = pwrite(fd, buf + done, size - done, static_cast<off_t>(off + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return n < 0 ? -errno : -EIO;
    done += static_cast<size_t>(n);
  }
  return 0;
}

bool IsImage(const char* path) { return path != nullptr && path[0] == '/' && std::strcmp(path + 1, kImageName) == 0; }

void* OpInit(fuse_conn_info* conn, fuse_config* cfg) {
  cfg->direct_io = 1;  // no FUSE page cache: the filesystem above has its own
  cfg->use_ino = 1;
  cfg->attr_timeout = 3600;  // the size never changes while mounted
  cfg->entry_timeout = 3600;
  conn->max_write = kMaxIo;
  conn->max_readahead = kMaxIo;
  return fuse_get_context()->private_data;
}

int OpGetattr(const char* path, struct stat* st, fuse_file_info*) {
  std::memset(st, 0, sizeof(*st));
  if (path != nullptr && std::strcmp(path, "/") == 0) {
    st->st_mode = S_IFDIR | 0700;
    st->st_nlink = 2;
    st->st_ino = 1;
    return 0;
  }
  if (!IsImage(path)) return -ENOENT;
  FuseBlockImage* self = Self();
  st->st_mode = S_IFREG | (self->read_only() ? 0400 : 0600);
  st->st_nlink = 1;
  st->st_ino = 2;
  st->st_size = static_cast<off_t>(self->size());
  st->st_blksize = 4096;
  st->st_blocks = static_cast<blkcnt_t>(self->size() / 512);
  return 0;
}

int OpReaddir(const char* path, void* buf, fuse_fill_dir_t filler, off_t, fuse_file_info*, fuse_readdir_flags) {
  if (path == nullptr || std::strcmp(path, "/") != 0) return -ENOENT;
  filler(buf, ".", nullptr, 0, static_cast<fuse_fill_dir_flags>(0));
  filler(buf, "..", nullptr, 0, static_cast<fuse_fill_dir_flags>(0));
  filler(buf, kImageName, nullptr, 0, static_cast<fuse_fill_dir_flags>(0));
  return 0;
}

int OpOpen(const char* path, fuse_file_info* fi) {
  if (!IsImage(path)) return -ENOENT;
  if (Self()->read_only() && (fi->flags & O_ACCMODE) != O_RDONLY) return -EROFS;
  fi->direct_io = 1;
  fi->keep_cache = 0;
  return 0;
}

int OpRead(const char*, char* buf, size_t size, off_t off, fuse_file_info*) {
  if (off < 0) return -EINVAL;
  return Self()->Read(static_cast<uint64_t>(off), size, reinterpret_cast<uint8_t*>(buf));
}

int OpWrite(const char*, const char* buf, size_t size, off_t off, fuse_file_info*) {
  if (off < 0) return -EINVAL;
  if (Self()->read_only()) return -EROFS;
  return Self()->Write(static_cast<uint64_t>(off), size, reinterpret_cast<const uint8_t*>(buf));
}

int OpFsync(const char*, int, fuse_file_info*) { return 0; }  // writes are pwrite'd before replying
int OpTruncate(const char*, off_t, fuse_file_info*) { return -EPERM; }

}  // namespace

absl::StatusOr<std::unique_ptr<FuseBlockImage>> FuseBlockImage::Start(const FuseBlockImageOptions& options,
                                                                      XtsEngine* engine) {
  if (engine == nullptr) return absl::InvalidArgumentError("FUSE image needs an XTS engine");
  return StartWithEngine(options, engine);
}

absl::StatusOr<std::unique_ptr<FuseBlockImage>> FuseBlockImage::StartPlaintextForTest(
    const FuseBlockImageOptions& options) {
  return StartWithEngine(options, nullptr);
}

absl::StatusOr<std::unique_ptr<FuseBlockImage>> FuseBlockImage::StartWithEngine(const FuseBlockImageOptions& options,
                                                                                XtsEngine* engine) {
  if (options.sector_size != 512 && options.sector_size != 4096) {
    return absl::InvalidArgumentError("sector size must be 512 or 4096 bytes");
  }
  if (options.device_fd < 0 || options.data_size == 0 || options.data_size % options.sector_size != 0) {
    return absl::InvalidArgumentError("FUSE image needs a device and a whole number of sectors");
  }
  if (engine != nullptr && engine->sector_size() != options.sector_size) {
    return absl::InvalidArgumentError("engine and image sector sizes differ");
  }
  std::unique_ptr<FuseBlockImage> image(new FuseBlockImage(options, engine));
  static const fuse_operations kOps = [] {
    fuse_operations ops{};
    ops.init = OpInit;
    ops.getattr = OpGetattr;
    ops.readdir = OpReaddir;
    ops.open = OpOpen;
    ops.read = OpRead;
    ops.write = OpWrite;
    ops.fsync = OpFsync;
    ops.truncate = OpTruncate;
    return ops;
  }();
  const char* argv[] = {"cdh-storage", "-o", "fsname=cdh-luks2,subtype=cdh-luks2,default_permissions", nullptr};
  fuse_args args = FUSE_ARGS_INIT(3, const_cast<char**>(argv));
  image->fuse_ = fuse_new(&args, &kOps, sizeof(kOps), image.get());
  fuse_opt_free_args(&args);
  if (image->fuse_ == nullptr) return absl::UnavailableError("fuse_new failed");
  if (fuse_mount(image->fuse_, options.mount_dir.c_str()) != 0) {
    fuse_destroy(image->fuse_);
    image->fuse_ = nullptr;
    return absl::UnavailableError(StrCat("FUSE mount on ", options.mount_dir, " failed (is /dev/fuse available?)"));
  }
  FuseBlockImage* raw = image.get();
  image->loop_thread_ = std::thread([raw] { raw->Serve(); });
  return image;
}

void FuseBlockImage::Serve() {
  fuse_loop_config* cfg = fuse_loop_cfg_create();
  fuse_loop_cfg_set_max_threads(cfg, 8);
  fuse_loop_cfg_set_idle_threads(cfg, 4);
  fuse_loop_mt(fuse_, cfg);
  fuse_loop_cfg_destroy(cfg);
  std::unique_ptr<XtsEngine> engine;
  {
    absl::MutexLock l(&state_mu_);
    loop_ended_ = true;
    if (!abandoned_) return;  // Stop() joins this thread and ends the session
    engine = std::move(abandoned_engine_);
  }
  { absl::MutexLock wait_for_abandon(&stop_mu_); }  // Abandon() has let go of the image
  // Abandoned, and the kernel has ended the session: no thread reads /dev/fuse any more, so
  // fuse_unmount only closes it (the mount is gone already). Nothing else refers to `this`.
  fuse_unmount(fuse_);
  fuse_destroy(fuse_);
  fuse_ = nullptr;
  delete this;  // loop_thread_ is detached; Stop() finds stopped_ set
}

void FuseBlockImage::DetachMount() {
  if (umount2(options_.mount_dir.c_str(), MNT_DETACH) == 0 || errno == EINVAL || errno == ENOENT) return;
  // Mounted by fusermount3 for an unprivileged process: unmount the same way.
  (void)RunProgram({"fusermount3", "-u", "-z", "-q", options_.mount_dir});
}

FuseBlockImage::~FuseBlockImage() { Stop(); }

void FuseBlockImage::Stop() {
  absl::MutexLock l(&stop_mu_);
  if (stopped_ || fuse_ == nullptr) return;
  stopped_ = true;
  // Unmount first: the kernel then ends the connection, every session thread's read of
  // /dev/fuse fails (ENODEV) and the loop returns. Only after the join is /dev/fuse closed
  // (fuse_unmount), so no thread still reads a descriptor being closed (or, worse, reused).
  fuse_exit(fuse_);
  DetachMount();
  if (loop_thread_.joinable()) loop_thread_.join();
  fuse_unmount(fuse_);
  fuse_destroy(fuse_);
  fuse_ = nullptr;
}

void FuseBlockImage::Abandon(std::unique_ptr<FuseBlockImage> image, std::unique_ptr<XtsEngine> engine) {
  if (image == nullptr) return;
  FuseBlockImage* raw = image.get();
  {
    absl::MutexLock stop_lock(&raw->stop_mu_);
    if (!raw->stopped_ && raw->fuse_ != nullptr) {
      absl::MutexLock state_lock(&raw->state_mu_);
      if (!raw->loop_ended_) {
        raw->stopped_ = true;
        raw->abandoned_ = true;
        raw->abandoned_engine_ = std::move(engine);
        // The loop thread owns the image from here (Serve); it ends when the session does.
        raw->DetachMount();
        raw->loop_thread_.detach();
        image.release();
        return;
      }
    }
  }
  image.reset();  // stopped already, or the session has ended: an ordinary stop, before the engine goes
}

int FuseBlockImage::ReadAligned(uint64_t offset, size_t size, uint8_t* out) {
  if (engine_ == nullptr) return PreadAll(options_.device_fd, out, size, options_.data_offset + offset);
  // Decrypt in place in the reply buffer (one pass over memory, no copy), overlapping the pread
  // of each chunk with the decryption of the chunks before it on the engine's workers.
  int read_error = 0;
  auto s = engine_->FillAndDecrypt(
      offset / options_.sector_size, std::span<uint8_t>(out, size), [&](size_t chunk_off, std::span<uint8_t> chunk) {
        read_error =
            PreadAll(options_.device_fd, chunk.data(), chunk.size(), options_.data_offset + offset + chunk_off);
        return read_error == 0 ? absl::OkStatus() : absl::UnavailableError("pread");
      });
  if (read_error != 0) return read_error;
  return s.ok() ? 0 : -EIO;
}

int FuseBlockImage::WriteAligned(uint64_t offset, size_t size, const uint8_t* in) {
  const uint8_t* src = in;
  if (engine_ != nullptr) {
    uint8_t* scratch = Scratch(size);
    if (scratch == nullptr) return -ENOMEM;
    auto s = engine_->Encrypt(offset / options_.sector_size, std::span<const uint8_t>(in, size),
                              std::span<uint8_t>(scratch, size));
    if (!s.ok()) return -EIO;
    src = scratch;
  }
  return PwriteAll(options_.device_fd, src, size, options_.data_offset + offset);
}

int FuseBlockImage::Read(uint64_t offset, size_t size, uint8_t* out) {
  if (offset >= options_.data_size) return 0;
  size = static_cast<size_t>(std::min<uint64_t>(size, options_.data_size - offset));
  if (size == 0) return 0;
  const size_t ss = options_.sector_size;
  if (offset % ss == 0 && size % ss == 0) {
    int r = ReadAligned(offset, size, out);
    return r < 0 ? r : static_cast<int>(size);
  }
  // Partial sectors: read the covering sectors into scratch, copy out the requested bytes.
  const uint64_t begin = offset / ss * ss, end = (offset + size + ss - 1) / ss * ss;
  absl::MutexLock l(&unaligned_mu_);
  uint8_t* scratch = Scratch(end - begin);
  if (scratch == nullptr) return -ENOMEM;
  if (int r = ReadAligned(begin, end - begin, scratch); r < 0) return r;
  std::memcpy(out, scratch + (offset - begin), size);
  return static_cast<int>(size);
}

int FuseBlockImage::Write(uint64_t offset, size_t size, const uint8_t* in) {
  if (offset >= options_.data_size || size > options_.data_size - offset) return -ENOSPC;
  const size_t ss = options_.sector_size;
  if (offset % ss == 0 && size % ss == 0) {
    int r = WriteAligned(offset, size, in);
    return r < 0 ? r : static_cast<int>(size);
  }
  const uint64_t begin = offset / ss * ss, end = (offset + size + ss - 1) / ss * ss;
  absl::MutexLock l(&unaligned_mu_);
  auto buf = AlignedBuffer::Allocate(end - begin);
  if (!buf.ok()) return -ENOMEM;
  if (int r = ReadAligned(begin, end - begin, buf->data()); r < 0) return r;
  std::memcpy(buf->data() + (offset - begin), in, size);
  int r = WriteAligned(begin, end - begin, buf->data());
  return r < 0 ? r : static_cast<int>(size);
}

}  // namespace cdh::storage
