// Socket-file lifecycle for the daemon's unix sockets (cdh-api.md §3.2).
// Thread-safe (no shared state).
#ifndef CDH_SERVER_UNIX_SOCKET_H_
#define CDH_SERVER_UNIX_SOCKET_H_

#include <string>

#include "absl/status/status.h"

namespace cdh {

// Makes `path` ready to bind: creates the parent directory (mode 0755 for the directories it
// creates), and removes a stale socket file — one that nothing is listening on. Returns
// FAILED_PRECONDITION when a live server is listening on `path` (it is never taken over) or when
// `path` exists and is not a socket; UNAVAILABLE on other filesystem errors.
absl::Status PrepareSocketPath(const std::string& path);

// Restricts the bound socket file to its owner (mode 0600). UNAVAILABLE on failure.
absl::Status RestrictSocketMode(const std::string& path);

// The listen backlog to use: the system maximum, /proc/sys/net/core/somaxconn (the kernel caps
// any larger value to it), or SOMAXCONN when that cannot be read. Clients that connect in bursts
// (Go's dialer fails at once with EAGAIN on a full unix-socket backlog) then wait to be accepted.
int SystemListenBacklog();

// Removes the socket file if it is still a socket. Never fails loudly (called at shutdown).
void RemoveSocketFile(const std::string& path);

}  // namespace cdh

#endif  // CDH_SERVER_UNIX_SOCKET_H_
