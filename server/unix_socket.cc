#include "server/unix_socket.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <filesystem>

#include "common/file_util.h"
#include "common/strings.h"

namespace cdh {
namespace {

// True when a server accepts connections on `path`.
bool SomeoneListens(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  bool live = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return live;
}

}  // namespace

absl::Status PrepareSocketPath(const std::string& path) {
  std::filesystem::path p(path);
  if (p.has_parent_path()) {
    absl::Status s = MakeDirs(p.parent_path().string(), 0755);
    if (!s.ok()) return s;
  }
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return absl::UnavailableError(StrCat("cannot stat ", path, ": ", strerror(errno)));
  }
  if (!S_ISSOCK(st.st_mode)) {
    return absl::FailedPreconditionError(StrCat(path, " exists and is not a socket; refusing to replace it"));
  }
  if (SomeoneListens(path)) {
    return absl::FailedPreconditionError(
        StrCat("another server is already listening on ", path, "; refusing to take it over"));
  }
  if (unlink(path.c_str()) != 0 && errno != ENOENT) {
    return absl::UnavailableError(StrCat("cannot remove stale socket ", path, ": ", strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status RestrictSocketMode(const std::string& path) {
  if (chmod(path.c_str(), 0600) != 0) {
    return absl::UnavailableError(StrCat("cannot chmod 0600 ", path, ": ", strerror(errno)));
  }
  return absl::OkStatus();
}

int SystemListenBacklog() {
  int backlog = SOMAXCONN;
  int fd = ::open("/proc/sys/net/core/somaxconn", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    char buf[32] = {};
    ssize_t n = ::read(fd, buf, sizeof(buf) - 1);  // a bounded read: procfs sizes are not to be trusted
    ::close(fd);
    if (n > 0) {
      int value = 0;
      auto [ptr, ec] = std::from_chars(buf, buf + n, value);
      if (ec == std::errc() && value > 0) backlog = std::max(backlog, value);
    }
  }
  return backlog;
}

void RemoveSocketFile(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) unlink(path.c_str());
}

}  // namespace cdh
