// guest_components_bench: memory and threads of ONE daemon serving the attestation agent, the data
// hub and the REST front (launched as the kata agent launches the three, tests/guest_launch.h),
// next to three separate daemons of ours, one per role — idle, and after 1,000 mixed calls in the
// same run. Every process of each set-up is counted: the single daemon's figures include its two
// joined entry points (which wait as cdh-role-wait, daemon/role_wait.c). Memory is counted two
// ways, from /proc/<pid>/smaps_rollup: RSS (each process's resident pages, shared ones counted in
// every process that maps them) and PSS (shared pages divided among the processes mapping them,
// so a sum over processes is what they take together). Prints figures and the single/separate
// ratios; asserts nothing.
//
// Calls (the same list in both set-ups): one third GetResource over the data hub's ttrpc, one
// third the attestation agent's GetEvidence over ttrpc (every tenth a GetToken("kbs")), one third
// GET /cdh/resource over REST. Limitation of the comparison: a REST-only daemon has no data hub in
// its process to forward to, so in the separate set-up the REST calls are answered 404 at once — a
// real separate REST front would also hold a ttrpc client, so the separate sum is a lower bound.
//
// Usage: guest_components_bench [calls=1000]
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "common/strings.h"
#include "common/testing/process.h"
#include "common/testing/temp_dir.h"
#include "http/curl_http_client.h"
#include "proto/api.pb.h"
#include "proto/attestation_agent.pb.h"
#include "tests/guest_launch.h"
#include "tests/kbs_dev_process.h"
#include "tests/test_util.h"
#include "ttrpc/client.h"

namespace {

using cdh::StrCat;
using cdh::testing::ChildProcess;

struct Usage {
  long rss_kib = 0;
  long pss_kib = 0;
  int threads = 0;
  Usage& operator+=(const Usage& o) {
    rss_kib += o.rss_kib;
    pss_kib += o.pss_kib;
    threads += o.threads;
    return *this;
  }
};

long Field(const std::string& text, const std::string& name) {
  size_t at = text.find("\n" + name);
  if (at == std::string::npos) return 0;
  return std::stol(text.substr(at + name.size() + 1));
}

Usage Measure(pid_t pid) {
  Usage u;
  std::string rollup = "\n" + cdh::testing::ReadFile(StrCat("/proc/", pid, "/smaps_rollup"));
  u.rss_kib = Field(rollup, "Rss:");
  u.pss_kib = Field(rollup, "Pss:");
  std::string status = "\n" + cdh::testing::ReadFile(StrCat("/proc/", pid, "/status"));
  u.threads = static_cast<int>(Field(status, "Threads:"));
  return u;
}

// One set-up: the processes, and where each role listens.
struct Setup {
  std::vector<std::unique_ptr<ChildProcess>> processes;
  std::string aa_socket, cdh_socket;
  int rest_port = 0;
};

// `separate`: each role in its own directory, so no entry point finds another's daemon.
bool Launch(const cdh::testing::TempDir& dir, const std::string& kbs_url, bool separate, Setup& s) {
  std::string aa_dir = dir.path() + (separate ? "/aa" : "/one");
  std::string cdh_dir = dir.path() + (separate ? "/cdh" : "/one");
  std::string rest_dir = dir.path() + (separate ? "/rest" : "/one");
  cdh::testing::GuestLaunch launch;
  launch.aa_socket = s.aa_socket = aa_dir + "/run/attestation-agent/attestation-agent.sock";
  launch.cdh_socket = s.cdh_socket = cdh_dir + "/run/cdh.sock";
  launch.aa_config =
      dir.Write(StrCat(separate ? "sep" : "one", "/aa.toml"),
                StrCat("[token_configs.kbs]\nurl = \"", kbs_url, "\"\n[attestation]\ntee = \"sample\"\n"));
  launch.cdh_config =
      dir.Write(StrCat(separate ? "sep" : "one", "/cdh.toml"),
                StrCat("socket = \"unix://", s.cdh_socket, "\"\ngrpc_socket = \"\"\n[kbc]\nname = \"cc_kbc\"\nurl = \"",
                       kbs_url, "\"\n[attestation]\ntee = \"sample\"\n[paths]\nbase_dir = \"", cdh_dir, "/base\"\n"));
  launch.rest_cdh_socket = rest_dir + "/run/cdh.sock";
  launch.rest_port = s.rest_port = cdh::testing::FreeLoopbackPort();
  launch.log_path = dir.File(separate ? "separate.log" : "single.log");
  absl::Status launched = cdh::testing::LaunchAsKata(launch, s.processes);
  if (!launched.ok()) std::fprintf(stderr, "launch: %s\n", std::string(launched.message()).c_str());
  return launched.ok();
}

Usage Total(const Setup& s) {
  Usage total;
  for (const auto& p : s.processes) total += Measure(p->pid());
  return total;
}

// The mixed calls; returns how many failed (REST 404s of the separate set-up are expected).
int MixedCalls(const Setup& s, int calls) {
  auto cdh_client = cdh::ttrpc::Client::Connect(s.cdh_socket);
  auto aa_client = cdh::ttrpc::Client::Connect(s.aa_socket);
  auto http = std::move(cdh::http::CurlHttpClient::New({})).value();
  if (!cdh_client.ok() || !aa_client.ok()) return calls;
  int failed = 0;
  for (int i = 0; i < calls; ++i) {
    switch (i % 3) {
      case 0: {
        api::GetResourceRequest req;
        req.set_resourcepath("kbs:///default/key/1");
        failed += !(*cdh_client)
                       ->Call("api.GetResourceService", "GetResource", req.SerializeAsString(), absl::Seconds(50))
                       .ok();
        break;
      }
      case 1: {
        std::string payload;
        const char* method = "GetEvidence";
        if (i % 10 == 1) {
          attestation_agent::GetTokenRequest req;
          req.set_tokentype("kbs");
          payload = req.SerializeAsString();
          method = "GetToken";
        } else {
          attestation_agent::GetEvidenceRequest req;
          req.set_runtimedata(StrCat("bench-", std::to_string(i)));
          payload = req.SerializeAsString();
        }
        failed +=
            !(*aa_client)->Call("attestation_agent.AttestationAgentService", method, payload, absl::Seconds(50)).ok();
        break;
      }
      default: {
        auto r = http->Send({"GET", StrCat("http://127.0.0.1:", s.rest_port, "/cdh/resource/default/key/1"), {}, ""},
                            absl::Now() + absl::Seconds(50));
        failed += !(r.ok() && r->status == 200);
      }
    }
  }
  return failed;
}

void Stop(Setup& s) {
  for (auto it = s.processes.rbegin(); it != s.processes.rend(); ++it) (*it)->Stop(absl::Seconds(15));
}

}  // namespace

int main(int argc, char** argv) {
  int calls = argc > 1 ? std::atoi(argv[1]) : 1000;
  cdh::testing::TempDir dir("cdh-gc-bench");
  cdh::testing::KbsDevProcess kbs(dir.path(), {});
  if (kbs.url().empty() || kbs.Post("/kbs/v0/resource/default/key/1", "bench-key") != 200) {
    std::fprintf(stderr, "kbs-dev did not start\n");
    return 1;
  }
  Usage idle[2], busy[2], daemon_idle, daemon_busy;
  int failed[2] = {0, 0};
  for (int separate = 0; separate < 2; ++separate) {
    Setup s;
    if (!Launch(dir, kbs.url(), separate == 1, s)) {
      std::fprintf(stderr, "launch failed; see %s\n", dir.File(separate ? "separate.log" : "single.log").c_str());
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // let start-up settle before sampling
    idle[separate] = Total(s);
    if (separate == 0) daemon_idle = Measure(s.processes[0]->pid());
    failed[separate] = MixedCalls(s, calls);
    busy[separate] = Total(s);
    if (separate == 0) daemon_busy = Measure(s.processes[0]->pid());
    Stop(s);
  }
  std::printf("guest components: one daemon for three roles vs three daemons of ours (%d mixed calls)\n", calls);
  std::printf("%-30s %9s %9s %7s %9s %9s %7s\n", "", "idle RSS", "idle PSS", "threads", "busy RSS", "busy PSS",
              "threads");
  auto row = [](const char* name, const Usage& i, const Usage& b) {
    std::printf("%-30s %9ld %9ld %7d %9ld %9ld %7d\n", name, i.rss_kib, i.pss_kib, i.threads, b.rss_kib, b.pss_kib,
                b.threads);
  };
  row("one daemon + 2 entry points", idle[0], busy[0]);
  row("  of which the daemon", daemon_idle, daemon_busy);
  row("three daemons (sum)", idle[1], busy[1]);
  std::printf("(KiB; every process of each set-up counted)\n");
  auto ratio = [](long a, long b) { return static_cast<double>(a) / static_cast<double>(b); };
  std::printf("ratio one/three idle:        RSS %.2f  PSS %.2f  threads %.2f\n",
              ratio(idle[0].rss_kib, idle[1].rss_kib), ratio(idle[0].pss_kib, idle[1].pss_kib),
              ratio(idle[0].threads, idle[1].threads));
  std::printf("ratio one/three after calls: RSS %.2f  PSS %.2f  threads %.2f\n",
              ratio(busy[0].rss_kib, busy[1].rss_kib), ratio(busy[0].pss_kib, busy[1].pss_kib),
              ratio(busy[0].threads, busy[1].threads));
  std::printf("failed calls: one daemon %d, three daemons %d (REST calls of the REST-only daemon: 404, expected)\n",
              failed[0], failed[1]);
  std::printf("kbs-dev handshakes in total: %d\n", kbs.Stats().value("attest", -1));
  return 0;
}
