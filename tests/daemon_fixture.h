// The one daemon fixture of the end-to-end tests: the real confidential-data-hub binary as a
// child process (common/testing/process.h).
//
// Daemon runs it on a config the test wrote. TestDaemon is the hermetic ready-made setup: a
// fresh temp directory holds its config, its offline_fs_kbc resources and its sockets; the
// kernel command line is /dev/null and the environment is minimal.
//
// TestDaemon's fixture data: the kata CI sealed secret of cdh-api.md §15 vector 1 (signed ES256,
// `kid` kbs:///default/signing-key/sealed-secret, pointing at kbs:///default/sealed-secret/test,
// whose value here is "unsealed_secret"), and resources kbs:///default/key/1 ("key-one", a small
// resource for latency figures) and, on request, kbs:///default/big/1 (5 MiB, more than a ttrpc
// frame holds; offline_fs_kbc re-reads its files on every call, so it slows every call down).
//
// Neither is copyable or movable; neither is thread-safe (one test thread drives each).
#ifndef CDH_TESTS_DAEMON_FIXTURE_H_
#define CDH_TESTS_DAEMON_FIXTURE_H_

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/testing/process.h"
#include "common/testing/temp_dir.h"
#include "tests/spec_vectors.h"

namespace cdh::testing {

// `confidential-data-hub -c <config> --kernel-cmdline /dev/null` with the test's environment;
// its stderr and stdout are appended to `log_path`.
class Daemon {
 public:
  Daemon(const std::string& config_path, const std::string& log_path);
  ~Daemon();  // SIGKILL if still running
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  pid_t pid() const { return child_ ? child_->pid() : -1; }
  // Until a connection to `socket_path` succeeds (true) or the process exits or `timeout`
  // passes (false).
  bool WaitForSocket(const std::string& socket_path, absl::Duration timeout = absl::Seconds(20));
  // Waits for the process to exit; its exit code, -1 on a signal or when still running after
  // `timeout`.
  int Wait(absl::Duration timeout = absl::Seconds(20));
  void Signal(int sig);
  bool Running();

 private:
  std::unique_ptr<ChildProcess> child_;  // null when it could not start
};

// cdh-api.md §15 vector 1 (tests/spec_vectors.h).
inline constexpr const char* kFixtureSealedSecret = kKataSealed;
inline constexpr char kFixturePlaintext[] = "unsealed_secret";
inline constexpr char kSmallResourceUri[] = "kbs:///default/key/1";
inline constexpr char kSmallResource[] = "key-one";
inline constexpr char kBigResourceUri[] = "kbs:///default/big/1";
inline constexpr size_t kBigResourceSize = 5 << 20;

struct TestDaemonOptions {
  bool grpc = true;                  // also serve gRPC (grpc_socket); off keeps thread counts steady
  bool big_resource = false;         // add kbs:///default/big/1
  std::string extra_resources_json;  // extra "key":"base64" members, comma-led (",\"a/b/c\":\"...\"")
  std::string binary;                // the daemon executable; empty: the one built with the tests
};

class TestDaemon {
 public:
  // Writes the fixture, starts the daemon and waits (at most 20 s) until its ttrpc socket
  // accepts connections. UNAVAILABLE with the daemon's log when it exits or never gets ready.
  static absl::StatusOr<std::unique_ptr<TestDaemon>> Start(TestDaemonOptions options = {});
  // Stops the daemon (SIGTERM, then SIGKILL after 15 s) and removes the directory.
  ~TestDaemon();
  TestDaemon(const TestDaemon&) = delete;
  TestDaemon& operator=(const TestDaemon&) = delete;

  pid_t pid() const { return child_ ? child_->pid() : -1; }
  const std::string& dir() const { return dir_.path(); }
  std::string ttrpc_socket() const { return dir_.File("cdh.sock"); }
  std::string grpc_socket() const { return dir_.File("cdh-grpc.sock"); }
  std::string config_path() const { return dir_.File("cdh.toml"); }
  // A file holding kFixtureSealedSecret followed by "\n", as a Kubernetes secret file may.
  std::string sealed_secret_path() const { return dir_.File("sealed_secret"); }

  // Open descriptors and threads of the daemon, from /proc/<pid>/fd and /proc/<pid>/task.
  int CountFds() const;
  int CountThreads() const;
  // Resident memory of the daemon in KiB (/proc/<pid>/status VmRSS).
  long RssKib() const;
  bool Alive();
  // SIGTERM and wait up to `timeout`; returns the exit status (or -1 when killed/timed out).
  int Stop(absl::Duration timeout = absl::Seconds(15));
  // SIGKILL and reap (for the stale-socket case).
  void Kill();
  // Starts the daemon again on the same directory and config (after Stop or Kill).
  absl::Status Restart() { return Spawn(); }
  std::string Log() const;

 private:
  TestDaemon() : dir_("cdh-e2e") {}
  absl::Status Spawn();
  std::string binary_;
  absl::Status WaitReady(absl::Duration timeout);

  TempDir dir_;
  std::unique_ptr<ChildProcess> child_;
};

// Starts another daemon process (minimal environment) with `config_path` and waits for it to
// exit within `timeout` (for "a second daemon on a live socket must refuse"). Returns its exit
// status, or -1 if it was still running (it is then killed).
int RunDaemonToExit(const std::string& config_path, const std::string& log_path, absl::Duration timeout);

}  // namespace cdh::testing

#endif  // CDH_TESTS_DAEMON_FIXTURE_H_
