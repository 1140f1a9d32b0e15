// image_pull_bench: PullImage through the real daemon (ttrpc, as the kata agent calls it) against
// a real docker-registry on 127.0.0.1, next to the standard tools' path on the same image
// (`skopeo copy docker://… oci:DIR` + `umoci raw unpack`), in one run. Prints figures and three
// ratios — cold pull / standard tools (goal ≤ 0.7), warm pull (every layer cached) / cold pull
// (goal ≤ 0.05) — and the daemon's peak RSS (VmHWM) during a cold pull of the big image and, in a
// fresh daemon, of an image a quarter of its size (goal ≤ 64 MiB, not growing with the image).
// It is not a test and asserts nothing about speed (speed goals are benchmarks, not timed tests). Needs root (the
// overlay mount, umoci unpack).
//
// Usage: image_pull_bench [total_mib=200] [layers=5]
#include <sys/mount.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "common/unix_socket_address.h"
#include "tests/daemon_fixture.h"
#include "tests/image/registry_fixture.h"
#include "tests/test_util.h"
#include "tools/cdh_client.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using cdh::testing::CommandResult;
using cdh::testing::ImageBuilder;
using cdh::testing::LocalRegistry;
using cdh::testing::RunCommand;

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

// One layer's files: half random bytes (incompressible), half repetitive text (compresses well),
// in files of at most 8 MiB, like a mix of binaries and text.
void MakeLayerTree(const std::string& dir, size_t bytes, uint32_t seed) {
  std::mt19937_64 rng(seed);
  size_t written = 0;
  int n = 0;
  while (written < bytes) {
    size_t size = std::min<size_t>(8 << 20, bytes - written);
    std::string content(size, '\0');
    if (n % 2 == 0) {
      for (size_t i = 0; i + 8 <= size; i += 8) {
        uint64_t v = rng();
        std::memcpy(content.data() + i, &v, 8);
      }
    } else {
      std::string line = "transaction_id,amount,merchant,timestamp,label " + std::to_string(seed) + "\n";
      for (size_t i = 0; i < size; ++i) content[i] = line[i % line.size()];
    }
    cdh::testing::WriteTreeFile(dir, "data/part-" + std::to_string(seed) + "-" + std::to_string(n++), content);
    written += size;
  }
}

long VmHwmKib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

struct DaemonRun {
  std::unique_ptr<cdh::testing::Daemon> daemon;
  std::string socket;
};

DaemonRun StartDaemon(const std::string& dir, const std::string& registry) {
  fs::create_directories(dir);
  DaemonRun run;
  run.socket = dir + "/cdh.sock";
  std::string config = dir + "/cdh.toml";
  std::ofstream(config) << "socket = \"unix://" << run.socket
                        << "\"\ngrpc_socket = \"\"\n[kbc]\nname = \"offline_fs_kbc\"\n"
                        << "[offline_fs_kbc]\nresource_files = []\n[paths]\nbase_dir = \"" << dir << "/base\"\n"
                        << "[log]\nlevel = \"warn\"\n[image]\nwork_dir = \"" << dir << "/work\"\n"
                        << "[[image.registry_config.registry]]\nlocation = \"" << registry << "\"\ninsecure = true\n";
  run.daemon = std::make_unique<cdh::testing::Daemon>(config, dir + "/daemon.log");
  if (!run.daemon->WaitForSocket(run.socket)) {
    std::fprintf(stderr, "daemon did not start: %s\n", cdh::testing::ReadFile(dir + "/daemon.log").c_str());
    std::exit(1);
  }
  return run;
}

// One PullImage over the daemon's ttrpc socket from this process (the kata agent keeps one
// connection open; spawning cdh-tool would add its own start-up, ~0.1 s here, to every figure).
double Pull(const DaemonRun& run, const std::string& image, const std::string& bundle) {
  auto address = cdh::UnixSocketAddress::Parse("unix://" + run.socket);
  if (!address.ok()) std::exit(1);
  auto client = cdh::tool::NewTtrpcCdhClient(*address, absl::Seconds(10));
  if (!client.ok()) {
    std::fprintf(stderr, "connect: %s\n", std::string(client.status().message()).c_str());
    std::exit(1);
  }
  auto t0 = Clock::now();
  auto digest = (*client)->PullImage(image, bundle, absl::Seconds(1200));
  auto t1 = Clock::now();
  if (!digest.ok()) {
    std::fprintf(stderr, "PullImage failed: %s\n", std::string(digest.status().message()).c_str());
    std::exit(1);
  }
  return Seconds(t0, t1);
}

}  // namespace

int main(int argc, char** argv) {
  if (geteuid() != 0) {
    std::fprintf(stderr, "image_pull_bench needs root (overlay mount, umoci unpack)\n");
    return 2;
  }
  size_t total_mib = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 200;
  int layers = argc > 2 ? std::atoi(argv[2]) : 5;
  cdh::testing::TempDir tmp;
  auto reg = LocalRegistry::Start(tmp.path() + "/reg", cdh::testing::RegistryAuth::kNone);
  if (!reg.ok()) {
    std::fprintf(stderr, "registry: %s\n", std::string(reg.status().message()).c_str());
    return 1;
  }
  ImageBuilder builder(tmp.path() + "/build");
  auto build_image = [&](const std::string& name, size_t mib, uint32_t seed_base) {
    std::vector<cdh::testing::LayerSpec> specs;
    for (int i = 0; i < layers; ++i) {
      std::string dir = tmp.path() + "/src-" + name + "-" + std::to_string(i);
      MakeLayerTree(dir, (mib << 20) / layers, seed_base + i);
      specs.push_back({dir, {}});
    }
    auto st = builder.Build(name, specs);
    if (st.ok()) st = builder.Push(name, (*reg)->host() + "/bench/" + name + ":v1");
    for (const auto& s : specs) fs::remove_all(s.source_dir);
    if (!st.ok()) {
      std::fprintf(stderr, "building %s: %s\n", name.c_str(), std::string(st.message()).c_str());
      std::exit(1);
    }
  };
  std::printf("building images (%zu MiB in %d layers, and %zu MiB) ...\n", total_mib, layers, total_mib / 4);
  std::fflush(stdout);
  build_image("big", total_mib, 100);
  build_image("small", total_mib / 4, 200);
  const std::string big = (*reg)->host() + "/bench/big:v1";
  const std::string small = (*reg)->host() + "/bench/small:v1";

  // The standard tools' path: skopeo copy to an OCI layout, then umoci raw unpack.
  std::string ref_dir = tmp.path() + "/ref";
  fs::create_directories(ref_dir);
  auto t0 = Clock::now();
  auto copy = builder.Skopeo({"copy", "--src-tls-verify=false", "docker://" + big, "oci:" + ref_dir + "/oci:big"});
  CommandResult unpack =
      RunCommand({"/usr/bin/umoci", "raw", "unpack", "--image", ref_dir + "/oci:big", ref_dir + "/rootfs"}, "", 1200);
  auto t1 = Clock::now();
  if (!copy.ok() || unpack.exit_code != 0) {
    std::fprintf(stderr, "reference path failed: %s %s\n",
                 copy.ok() ? "" : std::string(copy.status().message()).c_str(), unpack.err.c_str());
    return 1;
  }
  double reference = Seconds(t0, t1);
  fs::remove_all(ref_dir);

  // Peak RSS with a small image in a fresh daemon.
  std::vector<std::string> bundles;
  DaemonRun small_run = StartDaemon(tmp.path() + "/d-small", (*reg)->host());
  long idle_kib = VmHwmKib(small_run.daemon->pid());
  bundles.push_back(tmp.path() + "/bundle-small");
  double small_cold = Pull(small_run, small, bundles.back());
  long small_hwm = VmHwmKib(small_run.daemon->pid());
  umount2((bundles.back() + "/rootfs").c_str(), MNT_DETACH);
  small_run.daemon->Signal(SIGTERM);
  small_run.daemon->Wait(absl::Seconds(30));

  // Cold and warm pulls of the big image in a fresh daemon.
  DaemonRun run = StartDaemon(tmp.path() + "/d-big", (*reg)->host());
  bundles.push_back(tmp.path() + "/bundle-cold");
  double cold = Pull(run, big, bundles.back());
  long big_hwm = VmHwmKib(run.daemon->pid());
  bundles.push_back(tmp.path() + "/bundle-warm");
  double warm = Pull(run, big, bundles.back());
  for (const auto& b : bundles) umount2((b + "/rootfs").c_str(), MNT_DETACH);
  run.daemon->Signal(SIGTERM);
  run.daemon->Wait(absl::Seconds(30));

  std::printf("image: %zu MiB uncompressed in %d layers (half random, half text)\n", total_mib, layers);
  std::printf("skopeo copy + umoci raw unpack : %8.3f s\n", reference);
  std::printf("PullImage cold (daemon, ttrpc) : %8.3f s\n", cold);
  std::printf("PullImage warm (all cached)    : %8.3f s\n", warm);
  std::printf("PullImage cold, %3zu MiB image  : %8.3f s\n", total_mib / 4, small_cold);
  std::printf("daemon peak RSS (VmHWM): idle %.1f MiB, %zu MiB image %.1f MiB, %zu MiB image %.1f MiB\n",
              idle_kib / 1024.0, total_mib / 4, small_hwm / 1024.0, total_mib, big_hwm / 1024.0);
  std::printf("ratio cold / standard tools    : %.3f (goal <= 0.7)\n", cold / reference);
  std::printf("ratio warm / cold              : %.3f (goal <= 0.05)\n", warm / cold);
  std::printf("ratio peak RSS big / small     : %.3f (goal: ~1, and <= 64 MiB)\n",
              static_cast<double>(big_hwm) / static_cast<double>(small_hwm));
  return 0;
}
