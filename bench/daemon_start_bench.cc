// daemon_start_bench: how lean the daemon is. Execs the real confidential-data-hub binary on the
// hermetic offline_fs_kbc fixture (tests/daemon_fixture.h) and measures, per start:
//   - exec -> the ttrpc socket accepting a connection (connect() tried every 100 us), in wall-clock
//     time and in CPU time the daemon used until then (/proc/<pid>/task/*/schedstat; on a loaded
//     machine the wall clock mostly measures the scheduler, the CPU time does not);
//   - after an idle second: resident memory (VmRSS) and thread count (/proc/<pid>/status);
//   - the same after one GetResource over ttrpc (threads started on first use show up here);
// with gRPC configured (`grpc_socket` set) and without (`grpc_socket = ""`). References from the
// same run, on the same machine load: exec -> exit of /bin/true (the cost of any exec) and of
// `confidential-data-hub --version` (exec, dynamic linking and static initialisers of the same
// binary, no daemon work). Prints figures next to the goals; asserts nothing about speed.
//
// Usage: daemon_start_bench [starts=15] [daemon_binary...]  (default: the one built with this
// benchmark; several binaries, e.g. an older build and this one, alternate start by start for a
// before/after from one run).
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "common/strings.h"
#include "common/testing/process.h"
#include "tests/daemon_fixture.h"
#include "tests/test_util.h"
#include "tools/cdh_client.h"

namespace {

using Clock = std::chrono::steady_clock;

bool Connects(const std::string& socket_path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket_path.c_str(), sizeof(addr.sun_path) - 1);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

// VmRSS in KiB and Threads from /proc/<pid>/status; -1 when unreadable.
struct ProcStatus {
  long rss_kib = -1;
  int threads = -1;
};
ProcStatus ReadStatus(pid_t pid) {
  ProcStatus s;
  std::ifstream in(cdh::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) s.rss_kib = std::stol(line.substr(6));
    if (line.rfind("Threads:", 0) == 0) s.threads = std::stoi(line.substr(8));
  }
  return s;
}

// CPU time used so far by all threads of `pid`, in milliseconds (schedstat: nanoseconds on CPU).
double CpuMs(pid_t pid) {
  double ns = 0;
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator(cdh::StrCat("/proc/", pid, "/task"), ec)) {
    std::ifstream in(task.path() / "schedstat");
    double on_cpu = 0;
    if (in >> on_cpu) ns += on_cpu;
  }
  return ns / 1e6;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}
double Min(const std::vector<double>& v) { return v.empty() ? 0 : *std::min_element(v.begin(), v.end()); }

double ChildrenCpuMs() {
  rusage u{};
  ::getrusage(RUSAGE_CHILDREN, &u);
  return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3 + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e3;
}

// exec -> exit of `argv`, in milliseconds of wall clock (and of CPU time in *cpu_ms); negative
// when it failed.
double TimeToExit(const std::vector<std::string>& argv, double* cpu_ms) {
  double cpu0 = ChildrenCpuMs();
  auto t0 = Clock::now();
  auto child = cdh::testing::ChildProcess::Start(argv, {.env = std::vector<std::string>{}, .log_path = "/dev/null"});
  if (!child.ok()) return -1;
  std::optional<int> code = (*child)->Wait(absl::Seconds(20));
  double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  *cpu_ms = ChildrenCpuMs() - cpu0;
  return code == 0 ? ms : -1;
}

struct ModeFigures {
  std::vector<double> ready_ms, ready_cpu_ms;
  std::vector<double> idle_rss_mib, idle_threads, used_rss_mib, used_threads;
};

// One start of the daemon on `fixture`'s configuration; false when it did not come up.
bool OneStart(const std::string& binary, cdh::testing::TestDaemon& fixture, ModeFigures& f) {
  ::unlink(fixture.ttrpc_socket().c_str());
  std::vector<std::string> argv = {binary, "-c", fixture.config_path(), "--kernel-cmdline", "/dev/null"};
  auto t0 = Clock::now();
  auto child = cdh::testing::ChildProcess::Start(
      argv, {.env = std::vector<std::string>{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}, .log_path = "/dev/null"});
  if (!child.ok()) return false;
  // Readiness is an event in another process; it is observed by trying to connect in 100 us steps.
  bool ready = false;
  while (std::chrono::duration<double>(Clock::now() - t0).count() < 20) {
    if (Connects(fixture.ttrpc_socket())) {
      ready = true;
      break;
    }
    if (!(*child)->Running()) break;
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  if (!ready) return false;
  f.ready_ms.push_back(ms);
  f.ready_cpu_ms.push_back(CpuMs((*child)->pid()));
  std::this_thread::sleep_for(std::chrono::seconds(1));
  ProcStatus idle = ReadStatus((*child)->pid());
  f.idle_rss_mib.push_back(idle.rss_kib / 1024.0);
  f.idle_threads.push_back(idle.threads);
  auto client =
      cdh::tool::NewTtrpcCdhClient(*cdh::UnixSocketAddress::Parse(cdh::StrCat("unix://", fixture.ttrpc_socket())));
  if (!client.ok()) return false;
  auto r = (*client)->GetResource(cdh::testing::kSmallResourceUri, absl::Seconds(20));
  if (!r.ok()) return false;
  ProcStatus used = ReadStatus((*child)->pid());
  f.used_rss_mib.push_back(used.rss_kib / 1024.0);
  f.used_threads.push_back(used.threads);
  return (*child)->Stop(absl::Seconds(15)) == 0;
}

}  // namespace

struct BinaryFigures {
  std::string binary;
  std::vector<double> version_ms, version_cpu_ms;
  ModeFigures modes[2];  // [0] grpc_socket set, [1] grpc_socket = ""
};

int main(int argc, char** argv) {
  int starts = argc > 1 ? std::max(1, std::atoi(argv[1])) : 15;
  std::vector<BinaryFigures> binaries;
  for (int i = 2; i < argc; ++i) binaries.push_back({.binary = argv[i]});
  if (binaries.empty()) binaries.push_back({.binary = cdh::testing::DaemonBinary()});
  std::vector<double> true_ms, true_cpu_ms;
  std::unique_ptr<cdh::testing::TestDaemon> fixtures[2];
  for (int mode = 0; mode < 2; ++mode) {
    auto d = cdh::testing::TestDaemon::Start({.grpc = mode == 0});
    if (!d.ok()) {
      std::fprintf(stderr, "cannot start the daemon: %s\n", std::string(cdh::ToStd(d.status().message())).c_str());
      return 1;
    }
    (*d)->Stop();
    fixtures[mode] = std::move(d).value();
  }
  // Binaries, modes and references alternate start by start, so all see the same machine load.
  for (int i = 0; i < starts; ++i) {
    double cpu = 0;
    true_ms.push_back(TimeToExit({"/bin/true"}, &cpu));
    true_cpu_ms.push_back(cpu);
    for (BinaryFigures& b : binaries) {
      b.version_ms.push_back(TimeToExit({b.binary, "--version"}, &cpu));
      b.version_cpu_ms.push_back(cpu);
      for (int mode = 0; mode < 2; ++mode) {
        if (!OneStart(b.binary, *fixtures[mode], b.modes[mode])) {
          std::fprintf(stderr, "a start of %s failed\n", b.binary.c_str());
          return 1;
        }
      }
    }
  }
  double load[3] = {0, 0, 0};
  if (getloadavg(load, 3) < 0) load[0] = -1;
  std::printf("daemon start-up, %d starts per binary and mode, offline_fs_kbc fixture; load average %.2f\n", starts,
              load[0]);
  std::printf("reference: exec -> exit of /bin/true: median %.2f ms (min %.2f); CPU %.2f ms\n", Median(true_ms),
              Min(true_ms), Median(true_cpu_ms));
  for (const BinaryFigures& b : binaries) {
    std::printf("\n%s\n", b.binary.c_str());
    std::printf("  reference: exec -> exit of --version: median %.2f ms (min %.2f); CPU %.2f ms\n",
                Median(b.version_ms), Min(b.version_ms), Median(b.version_cpu_ms));
    std::printf("  %-18s %-28s %-13s %-10s %-8s %-17s %s\n", "mode", "exec -> ttrpc accepting", "CPU to ready",
                "idle RSS", "threads", "RSS after 1 call", "threads after 1 call");
    for (int mode = 0; mode < 2; ++mode) {
      const ModeFigures& f = b.modes[mode];
      std::printf("  %-18s median %6.2f ms (min %6.2f) %8.2f ms %6.1f MiB %6.0f %12.1f MiB %10.0f\n",
                  mode == 0 ? "grpc_socket set" : "grpc_socket = \"\"", Median(f.ready_ms), Min(f.ready_ms),
                  Median(f.ready_cpu_ms), Median(f.idle_rss_mib), Median(f.idle_threads), Median(f.used_rss_mib),
                  Median(f.used_threads));
    }
  }
  std::printf("\ngoals (ttrpc only): exec -> accepting <= 10 ms; idle RSS <= 12 MiB; idle threads <= 6\n");
  return 0;
}
