// load_soak_bench: the daemon under sustained mixed load and under abandoned calls, on each
// transport. Prints figures; asserts nothing about speed (it exits non-zero only when a call
// gives an unexpected answer or the daemon dies).
//
// Phase 1, load: the real daemon (tests/daemon_fixture.h: offline_fs_kbc resources), `callers`
// concurrent callers x `calls` calls each per transport, over ONE connection per transport as
// the kata agent holds, mixing GetResource (small resource), GetResource of a missing resource
// (NOT_FOUND), UnsealSecret of the fixture's sealed secret and UnsealSecret("notsealed")
// (INVALID_ARGUMENT). Errors are answers other than the expected one. p50/p99 per transport,
// and the daemon's RSS, threads and descriptors before and after.
//
// Phase 2, abandoned calls: a second daemon whose broker (cc_kbc) accepts connections and never
// answers (a listening socket nobody accepts on), `abandoned` GetResource calls split between
// ttrpc (each on its own connection, closed right after the request) and gRPC (a 200 ms client
// deadline). Threads, descriptors and RSS before, at the peak and once settled.
//
// Usage: load_soak_bench [callers=64] [calls_per_caller=10000] [abandoned=1000]
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "common/strings.h"
#include "proto/api.grpc.pb.h"
#include "tests/daemon_fixture.h"
#include "tests/test_util.h"
#include "tests/ttrpc/raw_conn.h"
#include "tools/cdh_client.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Figures {
  double p50_us = 0, p99_us = 0, calls_per_s = 0;
  long errors = 0;
  long calls = 0;
};

// One mixed call; true when the answer is the expected one.
bool MixedCall(cdh::tool::CdhClient& client, int k) {
  switch (k % 4) {
    case 0: {
      auto r = client.GetResource(cdh::testing::kSmallResourceUri, absl::Seconds(50));
      return r.ok() && r->RevealString() == cdh::testing::kSmallResource;
    }
    case 1:
      return absl::IsNotFound(client.GetResource("kbs:///default/key/missing", absl::Seconds(50)).status());
    case 2: {
      auto r = client.UnsealSecret(cdh::testing::kFixtureSealedSecret, absl::Seconds(50));
      return r.ok() && r->RevealString() == cdh::testing::kFixturePlaintext;
    }
    default:
      return absl::IsInvalidArgument(client.UnsealSecret("notsealed", absl::Seconds(50)).status());
  }
}

Figures Measure(cdh::tool::CdhClient& client, int callers, int calls_per_caller) {
  std::vector<std::vector<float>> lat(callers);
  std::atomic<long> errors{0};
  auto one = [&](int c) {
    lat[c].reserve(calls_per_caller);
    for (int i = 0; i < calls_per_caller; ++i) {
      auto t0 = Clock::now();
      bool ok = MixedCall(client, c + i);
      auto t1 = Clock::now();
      if (!ok) ++errors;
      lat[c].push_back(std::chrono::duration<float, std::micro>(t1 - t0).count());
    }
  };
  auto start = Clock::now();
  std::vector<std::thread> ts;
  for (int c = 0; c < callers; ++c) ts.emplace_back(one, c);
  for (auto& t : ts) t.join();
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<float> all;
  for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  Figures f;
  f.calls = static_cast<long>(all.size());
  f.p50_us = all[all.size() / 2];
  f.p99_us = all[std::min(all.size() - 1, all.size() * 99 / 100)];
  f.calls_per_s = all.size() / secs;
  f.errors = errors.load();
  return f;
}

int CountEntries(const std::string& dir) {
  int n = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(dir, ec); !ec && it != std::filesystem::directory_iterator();
       it.increment(ec)) {
    ++n;
  }
  return n;
}

long RssKib(pid_t pid) {
  std::string status = cdh::testing::ReadFile(cdh::StrCat("/proc/", pid, "/status"));
  size_t at = status.find("VmRSS:");
  return at == std::string::npos ? -1 : std::atol(status.c_str() + at + 6);
}

struct Snapshot {
  long rss_kib;
  int threads, fds;
};
Snapshot Take(pid_t pid) {
  return {RssKib(pid), CountEntries(cdh::StrCat("/proc/", pid, "/task")),
          CountEntries(cdh::StrCat("/proc/", pid, "/fd"))};
}
void Print(const char* when, const Snapshot& s) {
  std::printf("  %-28s RSS %6ld KiB  threads %4d  fds %4d\n", when, s.rss_kib, s.threads, s.fds);
}

double LoadAverage() {
  double one = 0;
  std::sscanf(cdh::testing::ReadFile("/proc/loadavg").c_str(), "%lf", &one);
  return one;
}

int PhaseLoad(int callers, int calls) {
  auto daemon = cdh::testing::TestDaemon::Start();
  if (!daemon.ok()) {
    std::fprintf(stderr, "cannot start the daemon: %s\n", std::string(cdh::ToStd(daemon.status().message())).c_str());
    return 1;
  }
  auto ttrpc = cdh::tool::NewTtrpcCdhClient(*cdh::UnixSocketAddress::Parse("unix://" + (*daemon)->ttrpc_socket()));
  auto grpc = cdh::tool::NewGrpcCdhClient(*cdh::UnixSocketAddress::Parse("unix://" + (*daemon)->grpc_socket()));
  if (!ttrpc.ok() || !grpc.ok()) {
    std::fprintf(stderr, "cannot connect\n");
    return 1;
  }
  Measure(**ttrpc, 4, 100);  // warm-up: connections, lazy initialisation, page cache
  Measure(**grpc, 4, 100);
  pid_t pid = (*daemon)->pid();
  std::printf("phase 1: %d callers x %d mixed calls per transport, one connection each (load average %.1f)\n", callers,
              calls, LoadAverage());
  Snapshot before = Take(pid);
  std::printf("%-9s %10s %10s %10s %12s %7s\n", "transport", "calls", "p50 (us)", "p99 (us)", "calls/s", "errors");
  long errors = 0;
  for (auto [name, client] : {std::pair<const char*, cdh::tool::CdhClient*>{"ttrpc", ttrpc->get()},
                              std::pair<const char*, cdh::tool::CdhClient*>{"grpc", grpc->get()}}) {
    Figures f = Measure(*client, callers, calls);
    errors += f.errors;
    std::printf("%-9s %10ld %10.1f %10.1f %12.0f %7ld\n", name, f.calls, f.p50_us, f.p99_us, f.calls_per_s, f.errors);
  }
  Print("daemon before:", before);
  Print("daemon after:", Take(pid));
  if (!(*daemon)->Alive()) return 1;
  return errors == 0 ? 0 : 1;
}

int PhaseAbandoned(int abandoned) {
  // A broker that accepts (the kernel completes connects into the backlog) and never answers.
  int silent = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (::bind(silent, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(silent, 4096) != 0 ||
      ::getsockname(silent, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::fprintf(stderr, "cannot listen\n");
    return 1;
  }
  cdh::testing::TempDir dir("soak");
  std::string ttrpc_socket = dir.File("ttrpc.sock"), grpc_socket = dir.File("grpc.sock");
  std::string config = dir.Write(
      "cdh.toml", cdh::StrCat("socket = \"unix://", ttrpc_socket, "\"\ngrpc_socket = \"unix://", grpc_socket,
                              "\"\n[kbc]\nname = \"cc_kbc\"\nurl = \"http://127.0.0.1:", ntohs(addr.sin_port),
                              "\"\n[attestation]\ntee = \"sample\"\n[paths]\nbase_dir = \"", dir.File("base"), "\"\n"));
  cdh::testing::Daemon daemon(config, dir.File("daemon.log"));
  if (!daemon.WaitForSocket(ttrpc_socket) || !daemon.WaitForSocket(grpc_socket)) {
    std::fprintf(stderr, "daemon did not start: %s\n", cdh::testing::ReadFile(dir.File("daemon.log")).c_str());
    ::close(silent);
    return 1;
  }
  auto channel = grpc::CreateChannel("unix:" + grpc_socket, grpc::InsecureChannelCredentials());
  auto stub = api::GetResourceService::NewStub(channel);
  {
    grpc::ClientContext ctx;
    api::GetResourceRequest req;
    req.set_resourcepath("not a uri");
    api::GetResourceResponse resp;
    (void)stub->GetResource(&ctx, req, &resp);  // warm-up
  }
  pid_t pid = daemon.pid();
  std::printf("phase 2: %d abandoned GetResource calls on a broker that never answers (load average %.1f)\n", abandoned,
              LoadAverage());
  Snapshot before = Take(pid);
  api::GetResourceRequest req;
  req.set_resourcepath("kbs:///default/key/1");
  std::string payload = req.SerializeAsString();
  auto start = Clock::now();
  // ttrpc: each caller connects, asks, and leaves without waiting (in batches of 100).
  int ttrpc_calls = abandoned / 2;
  for (int i = 0; i < ttrpc_calls; i += 100) {
    std::vector<std::unique_ptr<cdh::testing::RawConn>> batch;
    for (int k = i; k < std::min(ttrpc_calls, i + 100); ++k) {
      auto c = cdh::testing::RawConn::Connect(ttrpc_socket);
      if (c != nullptr && c->SendRequest(1, "api.GetResourceService", "GetResource", payload, 60'000'000'000)) {
        batch.push_back(std::move(c));
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // let the calls reach the broker
  }
  // gRPC: callers that give up after 200 ms, 50 at a time.
  int grpc_calls = abandoned - ttrpc_calls;
  std::atomic<int> gone{0};
  for (int i = 0; i < grpc_calls; i += 50) {
    std::vector<std::thread> ts;
    for (int k = i; k < std::min(grpc_calls, i + 50); ++k) {
      ts.emplace_back([&] {
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(200));
        api::GetResourceResponse resp;
        if (!stub->GetResource(&ctx, req, &resp).ok()) ++gone;
      });
    }
    for (auto& t : ts) t.join();
  }
  Snapshot peak = Take(pid);
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  // Settle: extra ttrpc workers leave after 5 s without work.
  std::this_thread::sleep_for(std::chrono::seconds(10));
  Snapshot settled = Take(pid);
  Print("daemon before:", before);
  Print(cdh::StrCat("right after (", static_cast<int>(secs), " s):").c_str(), peak);
  Print("10 s later:", settled);
  std::printf("  gRPC calls abandoned: %d of %d\n", gone.load(), grpc_calls);
  bool alive = daemon.Running();
  ::close(silent);
  return alive ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  int callers = argc > 1 ? std::atoi(argv[1]) : 64;
  int calls = argc > 2 ? std::atoi(argv[2]) : 10000;
  int abandoned = argc > 3 ? std::atoi(argv[3]) : 1000;
  int rc = PhaseLoad(callers, calls);
  int rc2 = PhaseAbandoned(abandoned);
  return rc != 0 ? rc : rc2;
}
