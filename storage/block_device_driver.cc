#include "storage/block_device_driver.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <functional>
#include <vector>

#include "common/base64.h"
#include "common/file_util.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "crypto/hash.h"
#include "storage/luks2_keyslots.h"
#include "storage/process.h"

namespace cdh::storage {
namespace {

constexpr size_t kRandomKeyBytes = 4096;  // upstream's ephemeral key size (cdh-api.md §11.2)
constexpr size_t kMaxKeyFileBytes = 1 << 20;

// Undo steps run in reverse unless dismissed: no half-mounted state after a failure.
class Rollback {
 public:
  ~Rollback() {
    for (auto it = steps_.rbegin(); it != steps_.rend(); ++it) (*it)();
  }
  void Add(std::function<void()> f) { steps_.push_back(std::move(f)); }
  void Dismiss() { steps_.clear(); }

 private:
  std::vector<std::function<void()>> steps_;
};

std::string Fingerprint(const BlockDeviceOptions& o, const std::string& device) {
  std::string s = StrCat(device, "|", static_cast<int>(o.source_type), "|", static_cast<int>(o.target_type), "|",
                         o.filesystem_type, "|", o.data_integrity, "|", static_cast<int>(o.key.kind), "|",
                         crypto::HexEncode(crypto::Sha256(o.key.uri)), "|", o.mapper_name);
  for (const auto& m : o.mkfs_opts) StrAppend(&s, "|", m);
  return s;
}

absl::StatusOr<uint64_t> DeviceSize(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0) return absl::UnavailableError("cannot stat the device");
  if (S_ISREG(st.st_mode)) return static_cast<uint64_t>(st.st_size);
  if (S_ISBLK(st.st_mode)) {
    uint64_t size = 0;
    if (ioctl(fd, BLKGETSIZE64, &size) != 0) return absl::UnavailableError("cannot get the device size");
    return size;
  }
  return absl::InvalidArgumentError("block-device: the device is neither a block device nor a regular file");
}

// The mount point with every symlink resolved, so that the path the daemon records is the path
// it mounted on and unmounts later, whatever happens to symlinks in between. For targetType=device
// the last component (the symlink to create) is kept and only its directory is resolved.
// Kernel pseudo-filesystems are refused as targets.
absl::StatusOr<std::string> CanonicalMountPoint(const std::string& requested, bool resolve_last) {
  std::filesystem::path p(requested);
  std::string canonical;
  if (resolve_last) {
    char buf[PATH_MAX];
    if (realpath(requested.c_str(), buf) == nullptr) {
      return absl::FailedPreconditionError(
          StrCat("block-device: mount point ", Sanitize(requested), " does not exist"));
    }
    canonical = buf;
  } else {
    std::string name = p.filename().string();
    if (name.empty() || name == "." || name == "..") {
      return absl::InvalidArgumentError("block-device: mount_point must name a file for targetType=device");
    }
    char buf[PATH_MAX];
    if (realpath(p.parent_path().c_str(), buf) == nullptr) {
      return absl::FailedPreconditionError(
          StrCat("block-device: the directory of ", Sanitize(requested), " does not exist"));
    }
    canonical = StrCat(buf, std::string_view(buf) == "/" ? "" : "/", name);
  }
  for (const char* forbidden : {"/proc", "/sys", "/dev"}) {
    if (canonical == forbidden || canonical.starts_with(StrCat(forbidden, "/"))) {
      return absl::InvalidArgumentError(StrCat("block-device: mount_point ", Sanitize(requested), " resolves into ",
                                               forbidden, ", which is refused"));
    }
  }
  return canonical;
}

// What identifies the device itself, whatever path names it: the device number of a block
// device, the inode of a regular file.
std::string DeviceIdentity(const struct stat& st) {
  if (S_ISBLK(st.st_mode)) return StrCat("blk:", static_cast<uint64_t>(st.st_rdev));
  return StrCat("file:", static_cast<uint64_t>(st.st_dev), ":", static_cast<uint64_t>(st.st_ino));
}

// What a detached header is bound to: the device's identity (block device: device number and
// the kernel's disk sequence number, which changes whenever a loop device is attached to
// another file or a medium changes; regular file: file system and inode) and its size in bytes.
std::string DeviceBinding(int fd, uint64_t size) {
  struct stat st;
  if (fstat(fd, &st) != 0) return "";
  uint64_t diskseq = 0;
  if (S_ISBLK(st.st_mode) && ioctl(fd, BLKGETDISKSEQ, &diskseq) != 0) diskseq = 0;
  return StrCat("cdh-luks2-header-binding v1 ", DeviceIdentity(st), " diskseq ", diskseq, " size ", size, "\n");
}

std::string BindingPath(const std::string& header_path) { return header_path + ".binding"; }

absl::Status WriteHeaderBinding(const std::string& header_path, int fd, uint64_t size) {
  const std::string binding = DeviceBinding(fd, size);
  if (binding.empty()) return absl::UnavailableError("block-device: cannot stat the device");
  return WriteFileAtomic(BindingPath(header_path), binding, 0600);
}

// True when the device carries a LUKS header of its own (the LUKS1/LUKS2 primary magic at byte
// 0): then it is another volume, never the data segment of one of our detached-header volumes
// (whose byte 0 is ciphertext).
bool HasOwnLuksHeader(int fd) {
  char magic[6];
  if (pread(fd, magic, sizeof magic, 0) != static_cast<ssize_t>(sizeof magic)) return false;
  return std::memcmp(magic, "LUKS\xba\xbe", 6) == 0;
}

// Whether the detached header at `header_path` still belongs to the device open at `fd`: the
// binding written at format time matches the device's identity and size now, and the device has
// not since received a LUKS header of its own.
bool HeaderBoundToDevice(const std::string& header_path, int fd, uint64_t size) {
  absl::StatusOr<std::string> recorded = ReadFileBounded(BindingPath(header_path), 4096);
  if (!recorded.ok()) return false;
  const std::string now = DeviceBinding(fd, size);
  return !now.empty() && *recorded == now && !HasOwnLuksHeader(fd);
}

}  // namespace

struct BlockDeviceDriver::Volume {
  std::string fingerprint;
  std::string identity;  // DeviceIdentity of the opened device
  std::string device;
  std::string mount_point;
  int device_fd = -1;
  std::unique_ptr<OpenVolume> open;
  bool mounted = false;
  bool symlinked = false;
};

absl::StatusOr<std::unique_ptr<BlockDeviceDriver>> BlockDeviceDriver::New(BlockDeviceDriverConfig config,
                                                                          std::unique_ptr<DataPath> data_path,
                                                                          VolumeKeyResolver* resolver) {
  if (!data_path) return absl::InvalidArgumentError("block-device driver needs a data path");
  if (config.header_dir.empty() || config.runtime_dir.empty()) {
    return absl::InvalidArgumentError("block-device driver needs header and runtime directories");
  }
  return std::unique_ptr<BlockDeviceDriver>(new BlockDeviceDriver(std::move(config), std::move(data_path), resolver));
}

BlockDeviceDriver::BlockDeviceDriver(BlockDeviceDriverConfig config, std::unique_ptr<DataPath> data_path,
                                     VolumeKeyResolver* resolver)
    : config_(std::move(config)), data_path_(std::move(data_path)), resolver_(resolver) {}

BlockDeviceDriver::~BlockDeviceDriver() { UnmountAll(); }

absl::StatusOr<std::string> BlockDeviceDriver::ResolveDevicePath(const BlockDeviceOptions& opts) const {
  if (!opts.device_id) return opts.device_path;
  const auto [major, minor] = *opts.device_id;
  const std::string uevent = StrCat(config_.sysfs_dir, "/dev/block/", major, ":", minor, "/uevent");
  auto text = ReadPseudoFile(uevent, 64 << 10);  // sysfs: announces 4096 bytes whatever it holds
  if (!text.ok()) {
    return absl::NotFoundError(StrCat("block-device: failed to get device path with major ", major, " minor ", minor));
  }
  for (std::string_view line : StrSplit(*text, '\n')) {
    if (line.rfind("DEVNAME=", 0) == 0 && line.size() > 8 && line.find("..") == std::string_view::npos) {
      return StrCat(config_.dev_dir, "/", line.substr(8));
    }
  }
  return absl::NotFoundError(StrCat("block-device: no DEVNAME for device ", major, ":", minor));
}

absl::StatusOr<SecretBytes> BlockDeviceDriver::ResolveKey(const KeySource& key, const CallContext& ctx) {
  absl::StatusOr<SecretBytes> out = absl::InternalError("unreachable");
  switch (key.kind) {
    case KeySourceKind::kRandom:
      out = crypto::RandomBytes(kRandomKeyBytes);
      break;
    case KeySourceKind::kFile:
      out = ReadSecretFile(key.uri, kMaxKeyFileBytes);
      break;
    case KeySourceKind::kSealed:
    case KeySourceKind::kKbs:
      if (resolver_ == nullptr) return absl::FailedPreconditionError("block-device: no key resolver configured");
      out = key.kind == KeySourceKind::kSealed ? resolver_->Unseal(key.uri, ctx) : resolver_->GetResource(key.uri, ctx);
      break;
  }
  if (!out.ok()) return Annotate(out.status(), "block-device option `key`");
  if (out->empty()) return absl::InvalidArgumentError("block-device option `key`: the key is empty");
  return out;
}

absl::Status BlockDeviceDriver::Mount(const std::map<std::string, std::string>& options,
                                      const std::string& requested_mount_point, const CallContext& ctx) {
  CDH_ASSIGN_OR_RETURN(BlockDeviceOptions opts, ParseBlockDeviceOptions(options));
  if (requested_mount_point.empty() || requested_mount_point[0] != '/') {
    return absl::InvalidArgumentError("block-device: mount_point must be an absolute path");
  }
  CDH_ASSIGN_OR_RETURN(const std::string mount_point,
                       CanonicalMountPoint(requested_mount_point, opts.target_type == TargetType::kFileSystem));
  if (opts.data_integrity && !data_path_->SupportsIntegrity()) {
    return absl::FailedPreconditionError(StrCat("block-device: dataIntegrity=true is not available on the ",
                                                data_path_->name(), " data path; refusing to mount without it"));
  }
  TimedTurnLock lock(&turn_, ctx.deadline);
  if (!lock.acquired()) return absl::DeadlineExceededError("block-device: another mount is still running");
  CDH_ASSIGN_OR_RETURN(std::string device, ResolveDevicePath(opts));
  const std::string fingerprint = Fingerprint(opts, device);
  if (auto it = volumes_.find(mount_point); it != volumes_.end()) {
    if (it->second->fingerprint == fingerprint) return absl::OkStatus();  // Idempotent retry
    return absl::FailedPreconditionError(
        StrCat("block-device: ", mount_point, " is already used by another secure mount"));
  }
  for (const auto& [mp, v] : volumes_) {
    if (v->device == device) {
      return absl::FailedPreconditionError(StrCat("block-device: ", device, " is already mounted at ", mp));
    }
  }
  return MountLocked(opts, device, fingerprint, mount_point, ctx);
}

absl::Status BlockDeviceDriver::MountLocked(const BlockDeviceOptions& opts, const std::string& device,
                                            const std::string& fingerprint, const std::string& mount_point,
                                            const CallContext& ctx) {
  struct stat st;
  if (opts.target_type == TargetType::kFileSystem) {
    if (stat(mount_point.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return absl::FailedPreconditionError(StrCat("block-device: mount point ", mount_point, " is not a directory"));
    }
  } else if (lstat(mount_point.c_str(), &st) == 0) {
    return absl::FailedPreconditionError(StrCat("block-device: ", mount_point, " already exists (targetType=device)"));
  }
  CDH_ASSIGN_OR_RETURN(SecretBytes key, ResolveKey(opts.key, ctx));

  // `volume` is declared before `rollback`, so the undo steps (which point into it) run while it
  // still exists.
  auto volume = std::make_unique<Volume>();
  Rollback rollback;
  volume->fingerprint = fingerprint;
  volume->device = device;
  volume->mount_point = mount_point;
  // A block device is opened exclusively: the same disk cannot be opened twice (through another
  // path, a symlink or a device number), nor while something has it mounted — as dm-crypt refuses.
  struct stat dst;
  // (Not on the kernel path: libcryptsetup opens the device itself there and dm-crypt holds it.)
  const bool is_block = stat(device.c_str(), &dst) == 0 && S_ISBLK(dst.st_mode);
  const bool exclusive = is_block && data_path_->name() != std::string_view("kernel");
  volume->device_fd = open(device.c_str(), O_RDWR | O_CLOEXEC | (exclusive ? O_EXCL : 0));
  if (volume->device_fd < 0) {
    if (errno == EBUSY) {
      return absl::FailedPreconditionError(
          StrCat("block-device: device ", device, " is in use (mounted or open elsewhere)"));
    }
    return errno == ENOENT
               ? absl::NotFoundError(StrCat("block-device: device ", device, " does not exist"))
               : absl::UnavailableError(StrCat("block-device: cannot open ", device, ": ", std::strerror(errno)));
  }
  const int device_fd = volume->device_fd;
  rollback.Add([device_fd] { close(device_fd); });
  if (fstat(device_fd, &dst) != 0) return absl::UnavailableError("block-device: cannot stat the device");
  volume->identity = DeviceIdentity(dst);
  for (const auto& [mp, v] : volumes_) {
    if (v->identity == volume->identity) {
      return absl::FailedPreconditionError(StrCat("block-device: ", device, " is the device already mounted at ", mp));
    }
  }
  CDH_ASSIGN_OR_RETURN(uint64_t device_size, DeviceSize(device_fd));

  // Detached header: created by sourceType=empty (as upstream §11.3) with a binding to the device
  // (DeviceBinding), reused by sourceType=encrypted only while that binding holds. A header
  // file found under the device's path could belong to an earlier volume on that path (another
  // image attached at the same loop device, new content written at the same device number), and
  // opening today's data with yesterday's header gives a garbage device whose first write
  // destroys the volume that is really there.
  const std::string header_path = StrCat(config_.header_dir, "/", Base64UrlEncode(device), ".header");
  bool detached = false;
  if (opts.source_type == SourceType::kEmpty) {
    Luks2FormatOptions format;
    if (opts.data_integrity) format.integrity = "hmac(sha256)";  // upstream's --integrity hmac-sha256
    if (device_size == 0 || device_size % format.sector_size != 0) {
      return absl::InvalidArgumentError(StrCat("block-device: ", device, " holds ", device_size,
                                               " bytes, not a whole number of ", format.sector_size,
                                               "-byte sectors (sourceType=empty formats with that sector size)"));
    }
    CDH_RETURN_IF_ERROR(MakeDirs(config_.header_dir, 0700));
    unlink(header_path.c_str());  // a new format replaces a previous ephemeral volume's header
    const int hfd = open(header_path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
    if (hfd < 0) return absl::UnavailableError(StrCat("block-device: cannot create the LUKS2 header file"));
    const bool sized = ftruncate(hfd, static_cast<off_t>(config_.header_file_size)) == 0;
    close(hfd);
    rollback.Add([header_path] { unlink(header_path.c_str()); });
    if (!sized) return absl::UnavailableError("block-device: cannot size the LUKS2 header file");
    CDH_RETURN_IF_ERROR(Annotate(FormatLuks2Detached(header_path, device, key, format), "luks2 format"));
    CDH_RETURN_IF_ERROR(WriteHeaderBinding(header_path, device_fd, device_size));
    rollback.Add([header_path] { unlink(BindingPath(header_path).c_str()); });
    detached = true;
  } else if (access(header_path.c_str(), F_OK) == 0) {
    detached = HeaderBoundToDevice(header_path, device_fd, device_size);
    if (!detached) {
      // Not this volume's header any more: another disk at this path or new content on it.
      // Removed, so that it cannot be tried again; the device's own header is read instead.
      unlink(header_path.c_str());
      unlink(BindingPath(header_path).c_str());
    }
  }

  absl::StatusOr<Luks2Metadata> md;
  if (detached) {
    const int hfd = open(header_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (hfd < 0) return absl::UnavailableError("block-device: cannot open the LUKS2 header file");
    md = ReadLuks2Metadata(hfd, device_size, /*detached=*/true, config_.limits);
    close(hfd);
  } else {
    md = ReadLuks2Metadata(device_fd, device_size, /*detached=*/false, config_.limits);
  }
  if (!md.ok()) return Annotate(md.status(), "luks2 header");
  // Refused before any key derivation: integrity asked for but absent, or present on a path that
  // cannot read it.
  if (opts.data_integrity && md->integrity.empty()) {
    return absl::FailedPreconditionError("block-device: dataIntegrity=true but the volume has no integrity segment");
  }
  if (!md->integrity.empty() && !data_path_->SupportsIntegrity()) {
    return absl::FailedPreconditionError(StrCat(
        "block-device: the volume has dm-integrity, which is not available on the ", data_path_->name(), " data path"));
  }
  CDH_ASSIGN_OR_RETURN(SecretBytes volume_key, RecoverVolumeKey(*md, key, ctx.deadline));
  key.Clear();

  const std::string name = opts.mapper_name.empty() ? StrCat("cdh-", getpid(), "-", next_id_++) : opts.mapper_name;
  DataPathRequest req{.device_fd = device_fd,
                      .device_path = device,
                      .device_size = device_size,
                      .metadata = &*md,
                      .header_path = detached ? header_path : "",
                      .name = name,
                      .wipe = opts.source_type == SourceType::kEmpty && !md->integrity.empty()};
  auto opened = data_path_->Open(req, volume_key);
  volume_key.Clear();
  if (!opened.ok()) return Annotate(opened.status(), StrCat(data_path_->name(), " data path"));
  volume->open = std::move(*opened);
  OpenVolume* open_volume = volume->open.get();
  rollback.Add([open_volume] { (void)open_volume->Close(); });
  const std::string& plain = volume->open->device_path();

  if (opts.target_type == TargetType::kDevice) {
    if (symlink(plain.c_str(), mount_point.c_str()) != 0) {
      return absl::UnavailableError(StrCat("block-device: cannot create the symlink ", mount_point));
    }
    volume->symlinked = true;
  } else {
    if (opts.source_type == SourceType::kEmpty) {
      std::string out;
      CDH_ASSIGN_OR_RETURN(int rc, RunProgram(Ext4MkfsArgv(opts.mkfs_opts, opts.data_integrity, plain), &out));
      if (rc != 0) {
        while (!out.empty() && out.back() == '\n') out.pop_back();
        return absl::InvalidArgumentError(
            StrCat("block-device: mkfs.ext4 failed (rc ", rc, "; check `mkfsOpts`): ", out.substr(0, 512)));
      }
    }
    if (mount(plain.c_str(), mount_point.c_str(), "ext4", MS_NOATIME, "") != 0) {
      // The key opened the volume, so what fails is its content (no ext4 on it, a damaged one)
      // or the kernel: a retry cannot help (docs/errors.md).
      return absl::FailedPreconditionError(StrCat("block-device: the volume opened, but mounting it as ext4 on ",
                                                  mount_point, " failed: ", std::strerror(errno),
                                                  " (does the volume hold an ext4 file system?)"));
    }
    volume->mounted = true;
  }
  rollback.Dismiss();
  volumes_[mount_point] = std::move(volume);
  return absl::OkStatus();
}

absl::Status BlockDeviceDriver::TearDown(Volume& v, bool lazy) {
  if (v.mounted) {
    if (umount2(v.mount_point.c_str(), 0) != 0 && errno != EINVAL && errno != ENOENT) {
      if (!lazy || errno != EBUSY) {
        if (errno == EBUSY) return absl::FailedPreconditionError(StrCat(v.mount_point, " is busy"));
        return absl::UnavailableError(StrCat("unmounting ", v.mount_point, " failed: ", std::strerror(errno)));
      }
      // Shutdown with files still open: detach lazily. The plaintext device stays in use until
      // those files close, so it must not be stopped here (a FUSE loop cannot end while the
      // loop device holds its file, and joining it would hang the daemon's exit): it is
      // abandoned, and ends when its last user goes or the process exits (data_path.h).
      umount2(v.mount_point.c_str(), MNT_DETACH);
      v.mounted = false;
      if (v.open) {
        v.open->Abandon();
        v.open.reset();
      }
      v.device_fd = -1;  // the abandoned data path may still read it: kept open until exit
      return absl::OkStatus();
    }
    v.mounted = false;
  }
  if (v.symlinked) {
    unlink(v.mount_point.c_str());
    v.symlinked = false;
  }
  if (v.open) {
    CDH_RETURN_IF_ERROR(v.open->Close());
    v.open.reset();
  }
  if (v.device_fd >= 0) {
    close(v.device_fd);
    v.device_fd = -1;
  }
  return absl::OkStatus();
}

absl::Status BlockDeviceDriver::Unmount(const std::string& mount_point, const CallContext& ctx) {
  TimedTurnLock lock(&turn_, ctx.deadline);
  if (!lock.acquired()) return absl::DeadlineExceededError("block-device: another mount is still running");
  // The volume is recorded under its canonical mount point (CanonicalMountPoint).
  auto it = volumes_.find(mount_point);
  for (bool resolve_last : {false, true}) {
    if (it != volumes_.end()) break;
    if (auto canonical = CanonicalMountPoint(mount_point, resolve_last); canonical.ok()) it = volumes_.find(*canonical);
  }
  if (it == volumes_.end()) return absl::NotFoundError(StrCat("no secure mount at ", Sanitize(mount_point)));
  CDH_RETURN_IF_ERROR(TearDown(*it->second, /*lazy=*/false));
  volumes_.erase(it);
  return absl::OkStatus();
}

void BlockDeviceDriver::UnmountAll() {
  TimedTurnLock lock(&turn_, absl::InfiniteFuture());
  for (auto& [mp, v] : volumes_) (void)TearDown(*v, /*lazy=*/true);
  volumes_.clear();
}

}  // namespace cdh::storage
