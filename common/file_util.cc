#include "common/file_util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "common/strings.h"

namespace cdh {
namespace {

absl::Status ErrnoStatus(int err, std::string_view what, const std::string& path) {
  std::string msg = StrCat(what, " ", path, ": ", strerror(err));
  if (err == ENOENT) return absl::NotFoundError(msg);
  if (err == EACCES || err == EPERM) return absl::PermissionDeniedError(msg);
  return absl::UnavailableError(msg);
}

}  // namespace

namespace {

uint8_t* WritableData(std::string& s) { return reinterpret_cast<uint8_t*>(s.data()); }
uint8_t* WritableData(SecretBytes& s) { return s.RevealMutable().data(); }

// Reads the whole regular file at `path` (at most `max_bytes`) straight into `out`, which grows in
// place: a SecretBytes never has its content pass through another buffer.
template <typename Buffer>
absl::Status ReadBoundedInto(const std::string& path, size_t max_bytes, Buffer& out) {
  // O_NONBLOCK: opening a FIFO (or a device) must not block the caller forever; such files are
  // refused just below. It has no effect on reads of the regular files we accept.
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return ErrnoStatus(errno, "cannot open", path);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int err = errno;
    close(fd);
    return ErrnoStatus(err, "cannot stat", path);
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return absl::InvalidArgumentError(StrCat(path, " is not a regular file"));
  }
  if (static_cast<size_t>(st.st_size) > max_bytes) {
    close(fd);
    return absl::InvalidArgumentError(StrCat(path, " is larger than the limit of ", max_bytes, " bytes"));
  }
  constexpr size_t kChunk = 16384;
  // One byte more than the limit is read, to notice a file that grew past it after the stat.
  const size_t limit = max_bytes == SIZE_MAX ? max_bytes : max_bytes + 1;
  // The stat's size plus one byte (the read that sees the end of the file) fills the buffer
  // reserved here; reads grow it further only for a file that grew since the stat. Asking for a
  // whole chunk at once would grow and zero a small file's buffer to the chunk size, and a
  // SecretBytes wipes every byte it ever held when it is freed.
  const size_t expected = std::min(static_cast<size_t>(st.st_size) + 1, limit);
  out.reserve(expected);
  while (true) {
    size_t have = out.size();
    size_t want = std::min(kChunk, limit - have);
    if (have < expected) want = std::min(want, expected - have);
    out.resize(have + want);
    ssize_t n = read(fd, WritableData(out) + have, want);
    if (n < 0 && errno == EINTR) {
      out.resize(have);
      continue;
    }
    if (n < 0) {
      int err = errno;
      close(fd);
      out.resize(0);
      return ErrnoStatus(err, "cannot read", path);
    }
    out.resize(have + static_cast<size_t>(n));
    if (n == 0) break;
    if (out.size() > max_bytes) {
      close(fd);
      out.resize(0);
      return absl::InvalidArgumentError(StrCat(path, " is larger than the limit of ", max_bytes, " bytes"));
    }
  }
  close(fd);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> ReadPseudoFile(const std::string& path, size_t max_bytes) {
  // O_NONBLOCK only so that a FIFO planted at the path cannot block the open; kernel attributes
  // ignore it (an `outblob` read still waits for its quote).
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    int err = errno;
    if (err == EINVAL) return absl::InvalidArgumentError(StrCat("cannot open ", path, ": ", strerror(err)));
    return ErrnoStatus(err, "cannot open", path);
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return absl::InvalidArgumentError(StrCat(path, " is not a regular file"));
  }
  constexpr size_t kChunk = 4096;  // one page: what sysfs and configfs hand out per read
  const size_t limit = max_bytes == SIZE_MAX ? max_bytes : max_bytes + 1;
  std::string out;
  while (out.size() < limit) {
    size_t have = out.size();
    size_t want = std::min(kChunk, limit - have);
    out.resize(have + want);
    ssize_t n = read(fd, out.data() + have, want);
    if (n < 0) {
      int err = errno;
      out.resize(have);
      if (err == EINTR) continue;
      close(fd);
      std::string msg = StrCat("cannot read ", path, ": ", strerror(err));
      if (err == EINVAL) return absl::InvalidArgumentError(msg);
      if (err == EFBIG) return absl::ResourceExhaustedError(msg);
      return ErrnoStatus(err, "cannot read", path);
    }
    out.resize(have + static_cast<size_t>(n));
    if (n == 0) break;
  }
  close(fd);
  if (out.size() > max_bytes) {
    return absl::ResourceExhaustedError(StrCat(path, " holds more than ", max_bytes, " bytes"));
  }
  return out;
}

absl::StatusOr<std::string> ReadFileBounded(const std::string& path, size_t max_bytes) {
  std::string out;
  absl::Status read = ReadBoundedInto(path, max_bytes, out);
  if (!read.ok()) return read;
  return out;
}

absl::StatusOr<SecretBytes> ReadSecretFile(const std::string& path, size_t max_bytes) {
  SecretBytes out;
  absl::Status read = ReadBoundedInto(path, max_bytes, out);
  if (!read.ok()) return read;
  return out;
}

absl::Status MakeDirs(const std::string& dir, unsigned mode) {
  std::error_code ec;
  std::filesystem::path p(dir);
  std::filesystem::path cur;
  for (const auto& part : p) {
    cur /= part;
    if (cur.empty() || std::filesystem::exists(cur, ec)) continue;
    if (mkdir(cur.c_str(), mode) != 0 && errno != EEXIST) {
      return ErrnoStatus(errno, "cannot create directory", cur.string());
    }
  }
  return absl::OkStatus();
}

absl::Status WriteFileAtomic(const std::string& path, std::string_view bytes, unsigned mode) {
  std::filesystem::path p(path);
  if (p.has_parent_path()) {
    absl::Status s = MakeDirs(p.parent_path().string(), 0700);
    if (!s.ok()) return s;
  }
  std::string tmp = StrCat(path, ".tmp.", getpid());
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) return ErrnoStatus(errno, "cannot create", tmp);
  fchmod(fd, mode);
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = write(fd, bytes.data() + off, bytes.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      close(fd);
      unlink(tmp.c_str());
      return ErrnoStatus(err, "cannot write", tmp);
    }
    off += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0 || close(fd) != 0) {
    int err = errno;
    unlink(tmp.c_str());
    return ErrnoStatus(err, "cannot flush", tmp);
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    unlink(tmp.c_str());
    return ErrnoStatus(err, "cannot rename into", path);
  }
  return absl::OkStatus();
}

std::string ExecutableDirectory() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return "";
  std::string path(buf, static_cast<size_t>(n));
  return path.substr(0, path.rfind('/') + 1);
}

}  // namespace cdh
