// transport_bench: round-trip latency of a small GetResource (offline_fs_kbc) through the real
// daemon over ttrpc and over gRPC, with 1 and with 64 concurrent callers, in one run. Prints
// figures (p50/p99 in microseconds, calls per second) and the ttrpc/gRPC ratios; it is not a
// test and asserts nothing about speed.
//
// Each transport uses ONE connection shared by all callers, as the kata agent does.
// Usage: transport_bench [calls_per_caller_single=2000] [calls_per_caller_concurrent=200]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <thread>
#include <vector>

#include "common/strings.h"
#include "tests/daemon_fixture.h"
#include "tools/cdh_client.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Figures {
  double p50_us = 0, p99_us = 0, calls_per_s = 0;
  int errors = 0;
};

Figures Measure(cdh::tool::CdhClient& client, int callers, int calls_per_caller) {
  std::vector<std::vector<double>> lat(callers);
  std::atomic<int> errors{0};
  auto one = [&](int c) {
    lat[c].reserve(calls_per_caller);
    for (int i = 0; i < calls_per_caller; ++i) {
      auto t0 = Clock::now();
      auto r = client.GetResource(cdh::testing::kSmallResourceUri, absl::Seconds(50));
      auto t1 = Clock::now();
      if (!r.ok() || r->RevealString() != cdh::testing::kSmallResource) ++errors;
      lat[c].push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    }
  };
  auto start = Clock::now();
  std::vector<std::thread> ts;
  for (int c = 0; c < callers; ++c) ts.emplace_back(one, c);
  for (auto& t : ts) t.join();
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  Figures f;
  f.p50_us = all[all.size() / 2];
  f.p99_us = all[std::min(all.size() - 1, all.size() * 99 / 100)];
  f.calls_per_s = all.size() / secs;
  f.errors = errors.load();
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  int single_calls = argc > 1 ? std::atoi(argv[1]) : 2000;
  int concurrent_calls = argc > 2 ? std::atoi(argv[2]) : 200;
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
  // Warm up both (connection setup, lazy initialisation, page cache of the resource file).
  Measure(**ttrpc, 4, 100);
  Measure(**grpc, 4, 100);

  std::printf(
      "GetResource %s (offline_fs_kbc, %zu-byte resource) through confidential-data-hub, one connection "
      "per transport\n",
      cdh::testing::kSmallResourceUri, std::string(cdh::testing::kSmallResource).size());
  std::printf("%-9s %8s %8s %10s %10s %12s %7s\n", "transport", "callers", "calls", "p50 (us)", "p99 (us)", "calls/s",
              "errors");
  struct Row {
    const char* name;
    int callers;
    Figures f;
  };
  std::vector<Row> rows;
  for (int callers : {1, 64}) {
    int per = callers == 1 ? single_calls : concurrent_calls;
    for (auto [name, client] : {std::pair<const char*, cdh::tool::CdhClient*>{"ttrpc", ttrpc->get()},
                                std::pair<const char*, cdh::tool::CdhClient*>{"grpc", grpc->get()}}) {
      Figures f = Measure(*client, callers, per);
      rows.push_back({name, callers, f});
      std::printf("%-9s %8d %8d %10.1f %10.1f %12.0f %7d\n", name, callers, callers * per, f.p50_us, f.p99_us,
                  f.calls_per_s, f.errors);
    }
  }
  std::printf("ratios ttrpc/grpc: 1 caller p50 %.2f p99 %.2f; 64 callers p50 %.2f p99 %.2f, throughput %.2f\n",
              rows[0].f.p50_us / rows[1].f.p50_us, rows[0].f.p99_us / rows[1].f.p99_us,
              rows[2].f.p50_us / rows[3].f.p50_us, rows[2].f.p99_us / rows[3].f.p99_us,
              rows[2].f.calls_per_s / rows[3].f.calls_per_s);
  int errors = 0;
  for (const Row& r : rows) errors += r.f.errors;
  return errors == 0 ? 0 : 1;
}
