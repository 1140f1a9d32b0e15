#include "server/peer_process.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "common/strings.h"

namespace cdh {
namespace {

// /proc/net/tcp writes an IPv4 address as the hex of its in-memory (network order) u32 read as a
// host-order integer: on little-endian 127.0.0.1 is 0100007F.
absl::StatusOr<std::string> ProcTcpEndpoint(std::string_view ip, int port) {
  in_addr addr{};
  std::string ip_text(ip);
  if (inet_pton(AF_INET, ip_text.c_str(), &addr) != 1) {
    return absl::InvalidArgumentError(StrCat("not an IPv4 address: ", Sanitize(ip)));
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%08X:%04X", static_cast<unsigned>(addr.s_addr), static_cast<unsigned>(port));
  return std::string(buf);
}

}  // namespace

absl::StatusOr<uint64_t> TcpSocketInode(std::string_view client_ip, int client_port, std::string_view server_ip,
                                        int server_port, const std::string& proc_root) {
  auto local = ProcTcpEndpoint(client_ip, client_port);
  if (!local.ok()) return local.status();
  auto remote = ProcTcpEndpoint(server_ip, server_port);
  if (!remote.ok()) return remote.status();
  std::ifstream in(proc_root + "/net/tcp");
  if (!in) return absl::UnavailableError("cannot read the TCP socket table");
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...
    std::istringstream fields(line);
    std::string sl, loc, rem, st, queues, timer, retr, uid, timeout;
    uint64_t inode = 0;
    if (!(fields >> sl >> loc >> rem >> st >> queues >> timer >> retr >> uid >> timeout >> inode)) continue;
    if (loc == *local && rem == *remote && inode != 0) return inode;
  }
  return absl::NotFoundError("no such TCP connection");
}

absl::StatusOr<pid_t> SocketOwner(uint64_t inode, const std::string& proc_root) {
  const std::string wanted = StrCat("socket:[", std::to_string(inode), "]");
  DIR* proc = opendir(proc_root.c_str());
  if (proc == nullptr) return absl::UnavailableError("cannot list processes");
  pid_t found = -1;
  while (dirent* e = readdir(proc)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (*end != '\0' || pid <= 0) continue;
    std::string fd_dir = StrCat(proc_root, "/", e->d_name, "/fd");
    DIR* fds = opendir(fd_dir.c_str());
    if (fds == nullptr) continue;
    while (dirent* f = readdir(fds)) {
      if (f->d_name[0] == '.') continue;
      char target[64];
      ssize_t n = readlink(StrCat(fd_dir, "/", f->d_name).c_str(), target, sizeof(target) - 1);
      if (n <= 0) continue;
      if (std::string_view(target, static_cast<size_t>(n)) == wanted) {
        found = static_cast<pid_t>(pid);
        break;
      }
    }
    closedir(fds);
    if (found > 0) break;
  }
  closedir(proc);
  if (found <= 0) return absl::NotFoundError("no process owns the socket");
  return found;
}

absl::StatusOr<std::string> ProcessCgroup(pid_t pid, const std::string& proc_root) {
  std::ifstream in(StrCat(proc_root, "/", std::to_string(pid), "/cgroup"));
  if (!in) return absl::NotFoundError("process is gone");
  // Each line is "<id>:<controllers>:<path>". On a hybrid cgroup v1/v2 host the unified line
  // is often "0::/" while the v1 hierarchies carry the container's path: the v1 paths count then.
  std::string line, unified, v1_paths;
  bool has_unified = false;
  while (std::getline(in, line)) {
    if (line.starts_with("0::")) {
      has_unified = true;
      unified = line.substr(3);
      continue;
    }
    size_t second = line.find(':', line.find(':') + 1);
    if (second == std::string::npos) continue;
    std::string_view path = std::string_view(line).substr(second + 1);
    if (path.empty() || path == "/") continue;
    if (!v1_paths.empty()) v1_paths += ';';
    v1_paths += path;
  }
  if (has_unified && (unified != "/" || v1_paths.empty())) return unified;
  if (!v1_paths.empty()) return v1_paths;
  return std::string("/");
}

}  // namespace cdh
