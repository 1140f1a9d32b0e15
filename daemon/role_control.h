// How three entry points become one daemon (the launch mechanism; README "One daemon for the
// guest components").
//
// The kata agent starts `attestation-agent`, waits for its socket, deletes any stale data hub
// socket, starts `confidential-data-hub`, waits for its socket, then starts `api-server-rest`
// (kata-containers src/agent/src/main.rs, launch_process). All three names are this one binary.
// The first entry point to run finds no daemon and becomes it: it serves its own role and listens
// on a control socket, `guest-components.sock` next to the data hub's socket (default
// /run/confidential-containers/guest-components.sock, mode 0600, only the daemon's own user may
// connect). Every later entry point connects there and hands its parsed command line over
// (RoleRequestToJson); the daemon starts that role — binding the role's socket itself, so the
// socket exists when the kata agent looks — and answers. No second attestation happens: the roles
// share the daemon's attester, KBS session and event log.
//
// The entry point then stays until the daemon exits (so process supervision still sees one process
// per role, with the pid and command line the kata agent started) and exits with the daemon's
// status; if the role fails it prints the reason and exits 1. To stay small while it waits, it
// execs `cdh-role-wait` (installed beside the binary; daemon/role_wait.c) with the control
// connection on descriptor 3 and its own argv: a static program of a few pages instead of the whole
// daemon binary and its libraries. Killing a waiting entry point ends that process only: the daemon
// keeps serving the role (the roles share one attester, session and event log; stopping the daemon,
// the first entry point, stops them all).
//
// Each entry point derives the control socket from its own arguments, so all three find the same
// one for kata's defaults and for any common prefix a test chooses:
//   confidential-data-hub   dirname(`socket` of its configuration)
//   attestation-agent       dirname(dirname(--attestation_sock)), or --control-dir (ours; for a
//                           host:port address, whose default is /run/confidential-containers)
//   api-server-rest         dirname(--cdh_addr)
//
// RoleControlServer is thread-safe; neither copyable nor movable.
#ifndef CDH_DAEMON_ROLE_CONTROL_H_
#define CDH_DAEMON_ROLE_CONTROL_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace cdh {

inline constexpr char kControlSocketName[] = "guest-components.sock";

// `dir` + "/guest-components.sock".
std::string ControlSocketPath(std::string_view dir);
// The directory part of `path` ("." when none).
std::string DirName(std::string_view path);

class RoleControlServer {
 public:
  using AddRole = std::function<absl::Status(const nlohmann::json& request)>;
  // Binds `path` (server/unix_socket.h lifecycle: FAILED_PRECONDITION when a live daemon owns it,
  // a stale file is replaced; mode 0600) and serves requests one at a time on its own thread.
  // UNAVAILABLE when it cannot be bound.
  static absl::StatusOr<std::unique_ptr<RoleControlServer>> Start(const std::string& path, AddRole add_role);
  // Stops, sends every joined entry point the daemon's exit status (one byte, 0: an orderly stop)
  // and closes its connection (they exit with it), removes the socket file.
  ~RoleControlServer();
  RoleControlServer(const RoleControlServer&) = delete;
  RoleControlServer& operator=(const RoleControlServer&) = delete;

 private:
  RoleControlServer(std::string path, int listen_fd, int wake_read, int wake_write, AddRole add_role);
  void Run();
  void Serve(int fd);

  const std::string path_;
  const int listen_fd_;
  const int wake_read_;
  const int wake_write_;
  const AddRole add_role_;
  std::vector<int> joined_;  // connections of entry points that joined (Run's thread only)
  std::thread thread_;
};

// Joins the daemon listening on `path`: std::nullopt when none does (no file, or a stale one);
// otherwise sends `request` and returns the open connection once the daemon serves the role
// (WaitForDaemonExit then), or the daemon's refusal with its code and message.
// DEADLINE_EXCEEDED when the daemon does not answer within `timeout`.
absl::StatusOr<std::optional<int>> JoinDaemon(const std::string& path, const nlohmann::json& request,
                                              absl::Duration timeout);

// Blocks until the daemon closes the connection `fd` (it exited), closes it and returns the exit
// status the daemon sent, or 1 when it sent none (it died).
int WaitForDaemonExit(int fd);

// The waiter a joined entry point becomes: `cdh-role-wait` in the executable's directory.
inline constexpr char kRoleWaiterFile[] = "cdh-role-wait";
// Replaces this process with the waiter, keeping `argv` (the entry point's command line), with
// the control connection `fd` as descriptor 3; the waiter does what WaitForDaemonExit does.
// Returns only when the exec fails: FAILED_PRECONDITION (the waiter is missing or not
// executable; the caller then waits itself), UNAVAILABLE when the descriptor cannot be moved.
absl::Status ExecRoleWaiter(int fd, char** argv);

}  // namespace cdh

#endif  // CDH_DAEMON_ROLE_CONTROL_H_
