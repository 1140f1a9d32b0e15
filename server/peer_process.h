// Who is on the other end of a local TCP connection: the process owning the client's socket and
// its cgroup, from /proc (Linux). Used by the REST front's policy to tell containers apart
// (server/rest_policy.h). Limits: the lookup sees the reading process's network namespace only; a
// socket shared by several processes (inherited across fork) yields the first one found; the
// answer can be stale if the client exits and its port is reused in between. Thread-safe (no state).
#ifndef CDH_SERVER_PEER_PROCESS_H_
#define CDH_SERVER_PEER_PROCESS_H_

#include <sys/types.h>

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace cdh {

// The inode of the IPv4 TCP socket whose local end is `client_ip`:`client_port` and remote end
// `server_ip`:`server_port`, read from `proc_root`/net/tcp. NOT_FOUND when no such socket is
// listed; INVALID_ARGUMENT for an address that is not dotted IPv4; UNAVAILABLE when the table
// cannot be read.
absl::StatusOr<uint64_t> TcpSocketInode(std::string_view client_ip, int client_port, std::string_view server_ip,
                                        int server_port, const std::string& proc_root = "/proc");

// The first process with a descriptor on socket `inode` (/proc/<pid>/fd/* -> "socket:[inode]").
// NOT_FOUND when none.
absl::StatusOr<pid_t> SocketOwner(uint64_t inode, const std::string& proc_root = "/proc");

// The cgroup path of `pid` from /proc/<pid>/cgroup: the unified hierarchy's path ("0::<path>");
// when that is "/" or absent (a hybrid or v1-only host), the v1 hierarchies' paths other than "/"
// joined with ';'; "/" when no hierarchy has another. NOT_FOUND when the process is gone.
absl::StatusOr<std::string> ProcessCgroup(pid_t pid, const std::string& proc_root = "/proc");

}  // namespace cdh

#endif  // CDH_SERVER_PEER_PROCESS_H_
