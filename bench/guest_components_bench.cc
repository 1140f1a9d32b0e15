// guest_components_bench: resident memory and threads of ONE daemon serving the attestation agent,
// the data hub and the REST front (launched as the kata agent launches the three), next to the sum
// for three separate daemons of ours, one per role — idle, and after 1,000 mixed calls in the same
// run. Prints figures and the single/separate ratios; asserts nothing.
//
// Calls (the same list in both set-ups): one third GetResource over the data hub's ttrpc, one
// third the attestation agent's GetEvidence over ttrpc (every tenth a GetToken("kbs")), one third
// GET /cdh/resource over REST. Limitation of the comparison: a REST-only daemon has no data hub in
// its process to forward to, so in the separate set-up the REST calls are answered 404 at once — a
// real separate REST front would also hold a ttrpc client, so the separate sum is a lower bound.
// The single daemon's figures include its two idle entry-point processes.
//
// Usage: guest_components_bench [calls=1000]
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

#include "common/strings.h"
#include "common/testing/process.h"
#include "common/testing/temp_dir.h"
#include "http/curl_http_client.h"
#include "proto/api.pb.h"
#include "proto/attestation_agent.pb.h"
#include "tests/kbs_dev_process.h"
#include "tests/test_util.h"
#include "ttrpc/client.h"

namespace {

using cdh::StrCat;
using cdh::testing::ChildProcess;

struct Usage {
  long rss_kib = 0;
  int threads = 0;
};

Usage Measure(pid_t pid) {
  Usage u;
  std::ifstream in(StrCat("/proc/", std::to_string(pid), "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) u.rss_kib = std::stol(line.substr(6));
    if (line.rfind("Threads:", 0) == 0) u.threads = std::stoi(line.substr(8));
  }
  return u;
}

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool WaitFor(const std::function<bool()>& ready) {
  for (int i = 0; i < 3000; ++i) {
    if (ready()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

std::string RoleBinary(const std::string& role) {
  std::string daemon = cdh::testing::DaemonBinary();
  return daemon.substr(0, daemon.rfind('/') + 1) + role;
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
  s.aa_socket = aa_dir + "/run/attestation-agent/attestation-agent.sock";
  s.cdh_socket = cdh_dir + "/run/cdh.sock";
  std::string aa_toml =
      dir.Write(StrCat(separate ? "sep" : "one", "/aa.toml"),
                StrCat("[token_configs.kbs]\nurl = \"", kbs_url, "\"\n[attestation]\ntee = \"sample\"\n"));
  std::string cdh_toml =
      dir.Write(StrCat(separate ? "sep" : "one", "/cdh.toml"),
                StrCat("socket = \"unix://", s.cdh_socket, "\"\ngrpc_socket = \"\"\n[kbc]\nname = \"cc_kbc\"\nurl = \"",
                       kbs_url, "\"\n[attestation]\ntee = \"sample\"\n[paths]\nbase_dir = \"", cdh_dir, "/base\"\n"));
  std::string log = dir.File(separate ? "separate.log" : "single.log");
  auto start = [&](std::vector<std::string> argv) {
    auto child = ChildProcess::Start(argv, {.log_path = log});
    if (child.ok()) s.processes.push_back(std::move(*child));
    return child.ok();
  };
  if (!start({RoleBinary("attestation-agent"), "--attestation_sock", "unix://" + s.aa_socket, "-c", aa_toml}))
    return false;
  if (!WaitFor([&] { return access(s.aa_socket.c_str(), F_OK) == 0; })) return false;
  if (!start({cdh::testing::DaemonBinary(), "-c", cdh_toml, "--kernel-cmdline", "/dev/null"})) return false;
  if (!WaitFor([&] { return access(s.cdh_socket.c_str(), F_OK) == 0; })) return false;
  s.rest_port = FreePort();
  if (!start({RoleBinary("api-server-rest"), "--features", "all", "--bind", StrCat("127.0.0.1:", s.rest_port),
              "--cdh_addr", StrCat("unix://", rest_dir, "/run/cdh.sock")})) {
    return false;
  }
  auto http = std::move(cdh::http::CurlHttpClient::New({})).value();
  return WaitFor([&] {
    auto r =
        http->Send({"GET", StrCat("http://127.0.0.1:", s.rest_port, "/info"), {}, ""}, absl::Now() + absl::Seconds(5));
    return r.ok() && r->status == 200;
  });
}

Usage Total(const Setup& s) {
  Usage total;
  for (const auto& p : s.processes) {
    Usage u = Measure(p->pid());
    total.rss_kib += u.rss_kib;
    total.threads += u.threads;
  }
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
        cdh::api::GetResourceRequest req;
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
  Usage idle[2], busy[2];
  int failed[2] = {0, 0};
  for (int separate = 0; separate < 2; ++separate) {
    Setup s;
    if (!Launch(dir, kbs.url(), separate == 1, s)) {
      std::fprintf(stderr, "launch failed; see %s\n", dir.File(separate ? "separate.log" : "single.log").c_str());
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // let start-up settle before sampling
    idle[separate] = Total(s);
    failed[separate] = MixedCalls(s, calls);
    busy[separate] = Total(s);
    Stop(s);
  }
  std::printf("guest components: one daemon for three roles vs three daemons of ours (%d mixed calls)\n", calls);
  std::printf("%-28s %12s %9s %12s %9s\n", "", "idle RSS KiB", "threads", "busy RSS KiB", "threads");
  std::printf("%-28s %12ld %9d %12ld %9d\n", "one daemon (+2 entry points)", idle[0].rss_kib, idle[0].threads,
              busy[0].rss_kib, busy[0].threads);
  std::printf("%-28s %12ld %9d %12ld %9d\n", "three daemons (sum)", idle[1].rss_kib, idle[1].threads, busy[1].rss_kib,
              busy[1].threads);
  std::printf(
      "ratio one/three: idle RSS %.2f, threads %.2f; after calls RSS %.2f, threads %.2f\n",
      static_cast<double>(idle[0].rss_kib) / idle[1].rss_kib, static_cast<double>(idle[0].threads) / idle[1].threads,
      static_cast<double>(busy[0].rss_kib) / busy[1].rss_kib, static_cast<double>(busy[0].threads) / busy[1].threads);
  std::printf("failed calls: one daemon %d, three daemons %d (REST calls of the REST-only daemon: 404, expected)\n",
              failed[0], failed[1]);
  std::printf("kbs-dev handshakes in total: %d\n", kbs.Stats().value("attest", -1));
  return 0;
}
