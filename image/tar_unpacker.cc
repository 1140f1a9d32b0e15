#include "image/tar_unpacker.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/status_macros.h"
#include "common/strings.h"

namespace cdh::image {
namespace {

constexpr std::string_view kWhiteoutPrefix = ".wh.";
constexpr std::string_view kOpaqueMarker = ".wh..wh..opq";

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { Reset(); }
  Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      Reset();
      fd_ = o.fd_;
      o.fd_ = -1;
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void Reset() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

absl::Status Errno(std::string_view what, std::string_view path, int err) {
  return absl::InternalError(StrCat("Failed to unpack layer: ", what, " `", Sanitize(path), "`: ", strerror(err)));
}

absl::Status Hostile(std::string_view path, std::string_view why) {
  return absl::InvalidArgumentError(StrCat("Failed to unpack layer: entry `", Sanitize(path), "` ", why));
}

// Splits a tar name into components: "./a//b/" -> {a, b}; a leading '/' is stripped;
// "." components dropped; ".." refused. Empty result = the layer root.
absl::StatusOr<std::vector<std::string>> CleanPath(std::string_view name) {
  std::vector<std::string> out;
  for (std::string_view c : StrSplit(name, '/')) {
    if (c.empty() || c == ".") continue;
    if (c == "..") return Hostile(name, "has a `..` component");
    out.emplace_back(c);
  }
  return out;
}

std::string Join(const std::vector<std::string>& comps, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) StrAppend(&out, i ? "/" : "", comps[i]);
  return out;
}

struct DirMeta {
  std::vector<std::string> comps;
  mode_t mode;
  uid_t uid;
  gid_t gid;
  timespec mtime;
};

class Unpacker {
 public:
  explicit Unpacker(int root_fd) : root_fd_(root_fd), as_root_(geteuid() == 0) {}

  absl::StatusOr<UnpackStats> Run(const TarSource& source);

 private:
  // The directory comps[0..n) below the root, walked with O_NOFOLLOW from the root; missing
  // directories are created (0755, metadata from a later entry) when `create`.
  absl::StatusOr<int> OpenDir(const std::vector<std::string>& comps, size_t n, bool create, std::string_view entry);
  absl::Status Extract(archive* a, archive_entry* e);
  absl::Status RemoveExisting(int parent, const std::string& name, bool keep_dir, std::string_view entry,
                              bool* kept_dir);
  absl::Status ApplyFileMeta(int fd, archive_entry* e, std::string_view entry);
  absl::Status ApplyXattrs(int fd, archive_entry* e, std::string_view entry);
  absl::Status FinishDirectories();

  int root_fd_;
  bool as_root_;
  UnpackStats stats_;
  std::vector<DirMeta> dirs_;
  std::optional<DirMeta> root_meta_;
  // The last directory opened, reused for siblings; dropped whenever an entry replaces anything.
  std::string cached_path_;
  Fd cached_fd_;
};

absl::StatusOr<int> Unpacker::OpenDir(const std::vector<std::string>& comps, size_t n, bool create,
                                      std::string_view entry) {
  if (n == 0) return root_fd_;
  std::string path = Join(comps, n);
  if (cached_fd_.get() >= 0 && cached_path_ == path) return cached_fd_.get();
  Fd cur;
  int dir = root_fd_;
  for (size_t i = 0; i < n; ++i) {
    int fd = openat(dir, comps[i].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create) {
      if (mkdirat(dir, comps[i].c_str(), 0755) != 0 && errno != EEXIST) return Errno("mkdir", entry, errno);
      fd = openat(dir, comps[i].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0) {
      if (errno == ELOOP || errno == ENOTDIR)
        return Hostile(entry, "has a parent that is a symlink or not a directory");
      if (errno == ENOENT) return Hostile(entry, "names a parent that does not exist");
      return Errno("open parent of", entry, errno);
    }
    cur = Fd(fd);
    dir = fd;
  }
  cached_path_ = path;
  cached_fd_ = std::move(cur);
  return cached_fd_.get();
}

absl::Status Unpacker::RemoveExisting(int parent, const std::string& name, bool keep_dir, std::string_view entry,
                                      bool* kept_dir) {
  *kept_dir = false;
  struct stat st;
  if (fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return Errno("stat", entry, errno);
  }
  if (S_ISDIR(st.st_mode)) {
    if (keep_dir) {
      *kept_dir = true;
      return absl::OkStatus();
    }
    cached_fd_.Reset();
    cached_path_.clear();
    if (unlinkat(parent, name.c_str(), AT_REMOVEDIR) != 0) {
      if (errno == ENOTEMPTY || errno == EEXIST) return Hostile(entry, "replaces a non-empty directory");
      return Errno("remove", entry, errno);
    }
    return absl::OkStatus();
  }
  if (unlinkat(parent, name.c_str(), 0) != 0) return Errno("remove", entry, errno);
  return absl::OkStatus();
}

absl::Status Unpacker::ApplyXattrs(int fd, archive_entry* e, std::string_view entry) {
  if (archive_entry_xattr_reset(e) == 0) return absl::OkStatus();
  const char* name;
  const void* value;
  size_t size;
  while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
    std::string_view n(name);
    // Overlay metadata from the archive would forge whiteouts, opaque dirs or redirects.
    if (n.starts_with("trusted.overlay.") || n.starts_with("user.overlay.")) continue;
    if (fsetxattr(fd, name, value, size, 0) != 0 && errno != ENOTSUP && errno != EPERM) {
      return Errno("set xattr on", entry, errno);
    }
  }
  return absl::OkStatus();
}

absl::Status Unpacker::ApplyFileMeta(int fd, archive_entry* e, std::string_view entry) {
  if (as_root_ && fchown(fd, archive_entry_uid(e), archive_entry_gid(e)) != 0) return Errno("chown", entry, errno);
  // After chown, which clears setuid/setgid.
  if (fchmod(fd, archive_entry_perm(e) & 07777) != 0) return Errno("chmod", entry, errno);
  CDH_RETURN_IF_ERROR(ApplyXattrs(fd, e, entry));
  timespec times[2] = {{archive_entry_mtime(e), archive_entry_mtime_nsec(e)},
                       {archive_entry_mtime(e), archive_entry_mtime_nsec(e)}};
  if (futimens(fd, times) != 0) return Errno("set times of", entry, errno);
  return absl::OkStatus();
}

absl::Status Unpacker::Extract(archive* a, archive_entry* e) {
  const char* raw = archive_entry_pathname(e);
  if (raw == nullptr) raw = archive_entry_pathname_utf8(e);
  if (raw == nullptr) return absl::DataLossError("Failed to unpack layer: entry without a name");
  std::string entry(raw);
  CDH_ASSIGN_OR_RETURN(std::vector<std::string> comps, CleanPath(entry));
  ++stats_.entries;
  const char* hardlink = archive_entry_hardlink(e);
  mode_t type = archive_entry_filetype(e);

  if (comps.empty()) {  // the layer root
    if (hardlink == nullptr && type == AE_IFDIR) {
      root_meta_ = DirMeta{{},
                           static_cast<mode_t>(archive_entry_perm(e)),
                           static_cast<uid_t>(archive_entry_uid(e)),
                           static_cast<gid_t>(archive_entry_gid(e)),
                           {archive_entry_mtime(e), archive_entry_mtime_nsec(e)}};
      return absl::OkStatus();
    }
    return Hostile(entry, "names the layer root but is not a directory");
  }
  std::string name = comps.back();
  if (name.size() > 255) return Hostile(entry, "has a name component longer than 255 bytes");

  // Whiteouts (image-spec layer.md), stored as overlayfs does.
  if (name.starts_with(kWhiteoutPrefix)) {
    CDH_ASSIGN_OR_RETURN(int parent, OpenDir(comps, comps.size() - 1, true, entry));
    ++stats_.whiteouts;
    if (name == kOpaqueMarker) {
      if (fsetxattr(parent, "trusted.overlay.opaque", "y", 1, 0) != 0) {
        return absl::FailedPreconditionError(StrCat("Failed to unpack layer: cannot mark `", Sanitize(entry),
                                                    "` opaque (trusted xattrs need CAP_SYS_ADMIN): ", strerror(errno)));
      }
      return absl::OkStatus();
    }
    std::string target = name.substr(kWhiteoutPrefix.size());
    if (target.empty() || target == "." || target == "..") return Hostile(entry, "is a whiteout without a valid name");
    struct stat st;
    if (fstatat(parent, target.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
      return absl::OkStatus();  // an entry of this layer wins over its own whiteout
    }
    if (mknodat(parent, target.c_str(), S_IFCHR | 0, makedev(0, 0)) != 0) {
      return absl::FailedPreconditionError(StrCat("Failed to unpack layer: cannot create the whiteout for `",
                                                  Sanitize(entry), "` (needs CAP_MKNOD): ", strerror(errno)));
    }
    return absl::OkStatus();
  }

  CDH_ASSIGN_OR_RETURN(int parent, OpenDir(comps, comps.size() - 1, true, entry));

  if (hardlink != nullptr) {
    CDH_ASSIGN_OR_RETURN(std::vector<std::string> target, CleanPath(hardlink));
    if (target.empty()) return Hostile(entry, "is a hard link to the layer root");
    // Resolve the target's parent without creating anything; a second walk can invalidate the
    // cached parent, so hold our own descriptor for the link's directory.
    Fd link_dir(openat(parent, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (link_dir.get() < 0) return Errno("open parent of", entry, errno);
    CDH_ASSIGN_OR_RETURN(int tparent, OpenDir(target, target.size() - 1, false, entry));
    struct stat st;
    if (fstatat(tparent, target.back().c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      return Hostile(entry, "is a hard link to an entry not extracted in this layer");
    }
    if (S_ISDIR(st.st_mode)) return Hostile(entry, "is a hard link to a directory");
    Fd tdir(openat(tparent, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (tdir.get() < 0) return Errno("open link target of", entry, errno);
    bool kept;
    CDH_RETURN_IF_ERROR(RemoveExisting(link_dir.get(), name, false, entry, &kept));
    if (linkat(tdir.get(), target.back().c_str(), link_dir.get(), name.c_str(), 0) != 0) {
      return Errno("hard link", entry, errno);
    }
    return absl::OkStatus();
  }

  bool kept_dir = false;
  switch (type) {
    case AE_IFDIR: {
      CDH_RETURN_IF_ERROR(RemoveExisting(parent, name, true, entry, &kept_dir));
      if (!kept_dir && mkdirat(parent, name.c_str(), 0700) != 0) return Errno("mkdir", entry, errno);
      Fd fd(openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (fd.get() < 0) return Errno("open", entry, errno);
      if (as_root_ && fchown(fd.get(), archive_entry_uid(e), archive_entry_gid(e)) != 0) {
        return Errno("chown", entry, errno);
      }
      CDH_RETURN_IF_ERROR(ApplyXattrs(fd.get(), e, entry));
      // Mode and mtime last: a 0555 directory must still take its children.
      dirs_.push_back(DirMeta{comps,
                              static_cast<mode_t>(archive_entry_perm(e)),
                              0,
                              0,
                              {archive_entry_mtime(e), archive_entry_mtime_nsec(e)}});
      return absl::OkStatus();
    }
    case AE_IFLNK: {
      const char* target = archive_entry_symlink(e);
      if (target == nullptr) target = archive_entry_symlink_utf8(e);
      if (target == nullptr) return absl::DataLossError("Failed to unpack layer: symlink without a target");
      CDH_RETURN_IF_ERROR(RemoveExisting(parent, name, false, entry, &kept_dir));
      // Stored verbatim: it is resolved only inside the container, never while unpacking.
      if (symlinkat(target, parent, name.c_str()) != 0) return Errno("symlink", entry, errno);
      if (as_root_ &&
          fchownat(parent, name.c_str(), archive_entry_uid(e), archive_entry_gid(e), AT_SYMLINK_NOFOLLOW) != 0) {
        return Errno("chown", entry, errno);
      }
      timespec times[2] = {{archive_entry_mtime(e), archive_entry_mtime_nsec(e)},
                           {archive_entry_mtime(e), archive_entry_mtime_nsec(e)}};
      utimensat(parent, name.c_str(), times, AT_SYMLINK_NOFOLLOW);
      return absl::OkStatus();
    }
    case AE_IFCHR:
    case AE_IFBLK:
    case AE_IFIFO:
      ++stats_.skipped_devices;
      return absl::OkStatus();
    case AE_IFSOCK:
      ++stats_.skipped_devices;
      return absl::OkStatus();
    default:
      break;  // regular files; unknown types are regular files (POSIX)
  }

  CDH_RETURN_IF_ERROR(RemoveExisting(parent, name, false, entry, &kept_dir));
  Fd fd(openat(parent, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (fd.get() < 0) return Errno("create", entry, errno);
  const void* buf;
  size_t size;
  la_int64_t offset;
  while (true) {
    int rc = archive_read_data_block(a, &buf, &size, &offset);
    if (rc == ARCHIVE_EOF) break;
    if (rc != ARCHIVE_OK) {
      return absl::DataLossError(StrCat("Failed to unpack layer: reading `", Sanitize(entry),
                                        "`: ", archive_error_string(a) ? archive_error_string(a) : "tar error"));
    }
    const char* p = static_cast<const char*>(buf);
    while (size > 0) {
      ssize_t n = pwrite(fd.get(), p, size, offset);
      if (n < 0) {
        if (errno == EINTR) continue;
        return Errno("write", entry, errno);
      }
      p += n;
      size -= static_cast<size_t>(n);
      offset += n;
    }
  }
  if (archive_entry_size_is_set(e) && ftruncate(fd.get(), archive_entry_size(e)) != 0) {
    return Errno("truncate", entry, errno);
  }
  return ApplyFileMeta(fd.get(), e, entry);
}

absl::Status Unpacker::FinishDirectories() {
  cached_fd_.Reset();
  cached_path_.clear();
  // Last entries first: children (which follow their parents in a tar) before parents, so a
  // parent's mtime is not undone; and for a directory listed twice, the later entry wins.
  std::set<std::vector<std::string>> done;
  for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) {
    const DirMeta& d = *it;
    if (!done.insert(d.comps).second) continue;
    auto parent = OpenDir(d.comps, d.comps.size() - 1, false, Join(d.comps, d.comps.size()));
    if (!parent.ok()) continue;  // replaced by a later entry
    Fd fd(openat(*parent, d.comps.back().c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (fd.get() < 0) continue;
    if (fchmod(fd.get(), d.mode & 07777) != 0) return Errno("chmod", Join(d.comps, d.comps.size()), errno);
    timespec times[2] = {d.mtime, d.mtime};
    futimens(fd.get(), times);
  }
  if (root_meta_) {
    if (as_root_ && fchown(root_fd_, root_meta_->uid, root_meta_->gid) != 0) return Errno("chown", ".", errno);
    if (fchmod(root_fd_, root_meta_->mode & 07777) != 0) return Errno("chmod", ".", errno);
    timespec times[2] = {root_meta_->mtime, root_meta_->mtime};
    futimens(root_fd_, times);
  }
  return absl::OkStatus();
}

struct ReadContext {
  const TarSource* source;
  absl::Status status;
};

la_ssize_t ReadCallback(archive*, void* user, const void** buffer) {
  auto* ctx = static_cast<ReadContext*>(user);
  auto next = (*ctx->source)();
  if (!next.ok()) {
    ctx->status = next.status();
    return -1;
  }
  *buffer = next->data();
  return static_cast<la_ssize_t>(next->size());
}

struct ArchiveDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};

absl::StatusOr<UnpackStats> Unpacker::Run(const TarSource& source) {
  std::unique_ptr<archive, ArchiveDeleter> a(archive_read_new());
  if (!a) return absl::InternalError("archive_read_new failed");
  archive_read_support_format_tar(a.get());
  archive_read_support_format_empty(a.get());
  ReadContext ctx{&source, absl::OkStatus()};
  if (archive_read_open(a.get(), &ctx, nullptr, ReadCallback, nullptr) != ARCHIVE_OK) {
    if (!ctx.status.ok()) return ctx.status;
    return absl::DataLossError(StrCat("Failed to unpack layer: ", archive_error_string(a.get())
                                                                      ? archive_error_string(a.get())
                                                                      : "not a tar archive"));
  }
  while (true) {
    archive_entry* e = nullptr;
    int rc = archive_read_next_header(a.get(), &e);
    if (rc == ARCHIVE_EOF) break;
    if (!ctx.status.ok()) return ctx.status;
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
      return absl::DataLossError(StrCat("Failed to unpack layer: ",
                                        archive_error_string(a.get()) ? archive_error_string(a.get()) : "tar error"));
    }
    absl::Status st = Extract(a.get(), e);
    if (!ctx.status.ok()) return ctx.status;
    if (!st.ok()) return st;
  }
  CDH_RETURN_IF_ERROR(FinishDirectories());
  return stats_;
}

}  // namespace

absl::StatusOr<UnpackStats> UnpackTar(const TarSource& source, int root_fd) {
  Unpacker unpacker(root_fd);
  return unpacker.Run(source);
}

}  // namespace cdh::image
