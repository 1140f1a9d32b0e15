// Benchmark of the attested path: prints figures, asserts nothing about speed.
// KbsClient (libcurl, real loopback sockets) against an in-process kbs-dev; the sample attester
// stands in for a TEE, so the handshake cost excludes any hardware quote generation.
//
//   handshake latency                     fresh client, /auth + key generation + /attest
//   GetResource, token reused             warm client (ours)
//   GetResource, re-attest every call     a full handshake with a new TEE key per call (upstream)
//   KBS round trips per UnsealSecret      after warm-up, with the kata fixture (KBS-URI kid)
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <vector>

#include "absl/time/clock.h"
#include "attestation/sample_attester.h"
#include "common/file_util.h"
#include "common/strings.h"
#include "kbs-client/kbs_client.h"
#include "kbs-dev/kbs_dev_server.h"
#include "resources/cc_kbc_provider.h"
#include "resources/secret/secret_unsealer.h"
#include "tests/spec_vectors.h"

namespace cdh {
namespace {

struct Figures {
  double median_us = 0;
  double mean_us = 0;
  double p90_us = 0;
};

Figures Measure(int n, const std::function<bool()>& op) {
  std::vector<double> us;
  for (int i = 0; i < n; ++i) {
    absl::Time t0 = absl::Now();
    if (!op()) {
      std::fprintf(stderr, "benchmark: operation failed\n");
      std::exit(1);
    }
    us.push_back(absl::ToDoubleMicroseconds(absl::Now() - t0));
  }
  std::sort(us.begin(), us.end());
  Figures f;
  f.median_us = us[us.size() / 2];
  f.p90_us = us[us.size() * 9 / 10];
  for (double v : us) f.mean_us += v / us.size();
  return f;
}

void Print(const char* name, int n, const Figures& f) {
  std::printf("%-44s n=%-4d median %9.1f us   mean %9.1f us   p90 %9.1f us\n", name, n, f.median_us, f.mean_us,
              f.p90_us);
}

std::unique_ptr<kbs::KbsClient> NewClient(const std::string& url, bool reattest, kbs::TeeKeyAlgorithm alg) {
  kbs::KbsClientOptions o;
  o.reattest_every_call_for_test = reattest;
  o.key_algorithm = alg;
  auto c = kbs::NewCurlKbsClient({url, ""}, o, std::make_unique<attestation::SampleAttester>());
  if (!c.ok()) {
    std::fprintf(stderr, "benchmark: %s\n", std::string(c.status().message()).c_str());
    std::exit(1);
  }
  return std::move(c).value();
}

int Run() {
  std::string dir = StrCat(std::filesystem::temp_directory_path().string(), "/kbs-bench-", ::getpid());
  kbsdev::KbsDevOptions options;
  options.resource_dir = dir;
  options.insecure_admin = true;
  auto server = kbsdev::KbsDevServer::Start(options);
  if (!server.ok()) return 1;
  std::string url = (*server)->url();
  (void)WriteFileAtomic(dir + "/repository/default\\x2Fkey\\x2F1", std::string(32, 'k'), 0600);
  (void)WriteFileAtomic(dir + "/repository/default\\x2Fsigning-key\\x2Fsealed-secret", testing::kKataPublicJwk, 0600);
  (void)WriteFileAtomic(dir + "/repository/default\\x2Fsealed-secret\\x2Ftest", "unsealed_secret", 0600);
  auto ctx = [] { return CallContext::WithTimeout(absl::Seconds(30)); };
  std::printf("kbs benchmark: KbsClient (libcurl) <-> in-process kbs-dev on %s, sample attester\n", url.c_str());

  for (auto alg : {kbs::TeeKeyAlgorithm::kEcP256, kbs::TeeKeyAlgorithm::kRsa2048}) {
    const char* name =
        alg == kbs::TeeKeyAlgorithm::kEcP256 ? "handshake (EC P-256 TEE key)" : "handshake (RSA-2048 TEE key)";
    int n = alg == kbs::TeeKeyAlgorithm::kEcP256 ? 100 : 20;
    Print(name, n, Measure(n, [&] { return NewClient(url, false, alg)->Attest(ctx()).ok(); }));
  }

  // The two modes alternate call by call so that both see the same machine load.
  auto warm = NewClient(url, false, kbs::TeeKeyAlgorithm::kEcP256);
  (void)warm->Attest(ctx());
  auto upstream = NewClient(url, true, kbs::TeeKeyAlgorithm::kEcP256);
  const int kCalls = 400;
  std::vector<double> reuse_us, every_us;
  for (int i = 0; i < kCalls; ++i) {
    reuse_us.push_back(
        Measure(1, [&] { return warm->GetResource("resource", "default/key/1", std::nullopt, ctx()).ok(); }).mean_us);
    every_us.push_back(Measure(1, [&] {
                         return upstream->GetResource("resource", "default/key/1", std::nullopt, ctx()).ok();
                       }).mean_us);
  }
  auto summarise = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    Figures f;
    f.median_us = v[v.size() / 2];
    f.p90_us = v[v.size() * 9 / 10];
    for (double x : v) f.mean_us += x / v.size();
    return f;
  };
  Figures reuse = summarise(reuse_us);
  Figures every = summarise(every_us);
  Print("GetResource, token reused (ours)", kCalls, reuse);
  Print("GetResource, re-attest every call (upstream)", kCalls, every);
  std::printf("ratio re-attest/reuse: median %.1fx, mean %.1fx\n", every.median_us / reuse.median_us,
              every.mean_us / reuse.mean_us);
  std::printf(
      "HTTP round trips per GetResource: reuse %.2f, re-attest %.2f (loopback and the free sample "
      "attester hide most of the handshake's cost; a real quote and a real network widen the gap)\n",
      static_cast<double>(warm->stats().http_requests - 2) / kCalls,
      static_cast<double>(upstream->stats().http_requests) / kCalls);

  // Round trips per UnsealSecret after warm-up, through the real unsealer and cc_kbc.
  auto provider = std::make_unique<resources::CcKbcProvider>(NewClient(url, false, kbs::TeeKeyAlgorithm::kEcP256));
  std::map<std::string, std::unique_ptr<resources::SecretGetter>> getters;
  getters["kbs"] = std::make_unique<resources::KbsSecretGetter>(*provider);
  resources::SecretUnsealer unsealer({}, *provider, std::move(getters), nullptr);
  if (!unsealer.Unseal(testing::kKataSealed, ctx()).ok()) return 1;  // warm-up (one handshake)
  auto before = provider->client().stats();
  const int kUnseals = 200;
  Figures unseal = Measure(kUnseals, [&] { return unsealer.Unseal(testing::kKataSealed, ctx()).ok(); });
  auto after = provider->client().stats();
  Print("UnsealSecret (KBS-URI kid), warm", kUnseals, unseal);
  std::printf(
      "KBS round trips per UnsealSecret after warm-up: %.2f (handshakes %llu, resource GETs %.2f per unseal;"
      " the kid's public key is cached, the secret is fetched every time)\n",
      static_cast<double>(after.http_requests - before.http_requests) / kUnseals,
      static_cast<unsigned long long>(after.handshakes - before.handshakes),
      static_cast<double>(after.resource_requests - before.resource_requests) / kUnseals);
  std::printf("kbs-dev stats: %s\n", (*server)->stats().ToJson().dump().c_str());
  (*server)->Stop();
  std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace cdh

int main() { return cdh::Run(); }
