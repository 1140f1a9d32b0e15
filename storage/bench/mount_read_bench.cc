// Sequential-read throughput through a mounted volume on the userspace data path, next to the
// same FUSE + loop + ext4 path without encryption (goal: encryption costs
// less than 20%). Prints figures measured in one run, writes a CSV and, when gnuplot is
// installed, a PNG of throughput against read size, and ends with the mounted-path rows of the
// goal table of storage/bench/RESULTS.md, each next to its reference from the same run. Not a
// test.
//
// Both stacks are the components UserspaceDataPath uses (FuseBlockImage + LoopDevice + ext4);
// the only difference is the engine (AES-256-XTS, 4096-byte sectors, 2 threads) vs none.
// The backing image files live in a temp directory (their pages stay in RAM), so the figures
// measure the data path, not a disk.
//
// Usage (root, /dev/fuse, loop devices):
//   mount_read_bench [file MiB, default 1024] [out dir, default .] [plain-first|enc-first] [fuse-only]
// `plain-first` builds the unencrypted stack first (to check that build order does not matter);
// `fuse-only` stops after the FUSE-image figures.
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "common/secret_bytes.h"
#include "storage/aligned_buffer.h"
#include "storage/fuse_block_image.h"
#include "storage/loop_device.h"
#include "storage/process.h"
#include "storage/testing/luks_image.h"
#include "storage/xts_engine.h"

namespace {

using namespace cdh::storage;

double Now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

// One mounted stack: image file → FUSE (engine or passthrough) → loop → ext4.
struct Stack {
  std::unique_ptr<XtsEngine> engine;
  cdh::SecretBytes engine_key;
  int fd = -1;
  std::unique_ptr<FuseBlockImage> fuse;
  std::unique_ptr<LoopDevice> loop;
  std::string mnt;
  bool mounted = false;

  ~Stack() {
    if (mounted && umount2(mnt.c_str(), 0) != 0) {
      std::fprintf(stderr, "umount %s: %s; detaching lazily\n", mnt.c_str(), std::strerror(errno));
      umount2(mnt.c_str(), MNT_DETACH);
    }
    if (loop) loop->Release();
    if (fuse) fuse->Stop();
    if (fd >= 0) close(fd);
  }
};

std::unique_ptr<Stack> Build(const std::string& dir, const std::string& name, uint64_t bytes, bool encrypted) {
  auto s = std::make_unique<Stack>();
  const std::string img = dir + "/" + name + ".img";
  { std::ofstream f(img); }
  if (truncate(img.c_str(), static_cast<off_t>(bytes)) != 0) return nullptr;
  s->fd = open(img.c_str(), O_RDWR | O_CLOEXEC);
  if (encrypted) {
    cdh::SecretBytes key(64);
    std::mt19937_64 rng(42);
    for (auto& b : key.RevealMutable()) b = static_cast<uint8_t>(rng());
    auto e = XtsEngine::New(key, {.sector_size = 4096, .threads = 2});
    if (!e.ok()) return nullptr;
    s->engine = std::move(*e);
    s->engine_key = std::move(key);
  }
  const std::string fdir = dir + "/" + name + ".fuse";
  std::filesystem::create_directory(fdir);
  const FuseBlockImageOptions options{
      .mount_dir = fdir, .device_fd = s->fd, .data_offset = 0, .data_size = bytes, .sector_size = 4096};
  auto f = s->engine ? FuseBlockImage::Start(options, s->engine.get()) : FuseBlockImage::StartPlaintextForTest(options);
  if (!f.ok()) {
    std::fprintf(stderr, "fuse: %s\n", std::string(f.status().message()).c_str());
    return nullptr;
  }
  s->fuse = std::move(*f);
  auto l = LoopDevice::Attach(s->fuse->image_path(), 4096, false);
  if (!l.ok()) {
    std::fprintf(stderr, "loop: %s\n", std::string(l.status().message()).c_str());
    return nullptr;
  }
  s->loop = std::move(*l);
  SetReadAheadKb(s->loop->path(), 1024);
  std::string out;
  auto rc =
      RunProgram({"mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0", s->loop->path()}, &out);
  if (!rc.ok() || *rc != 0) {
    std::fprintf(stderr, "mkfs: %s\n", out.c_str());
    return nullptr;
  }
  s->mnt = dir + "/" + name + ".mnt";
  std::filesystem::create_directory(s->mnt);
  if (mount(s->loop->path().c_str(), s->mnt.c_str(), "ext4", MS_NOATIME, "") != 0) return nullptr;
  s->mounted = true;
  return s;
}

bool WriteFile(const std::string& path, uint64_t bytes) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  std::vector<uint8_t> chunk(1 << 20);
  std::mt19937_64 rng(7);
  for (auto& b : chunk) b = static_cast<uint8_t>(rng());
  for (uint64_t done = 0; done < bytes; done += chunk.size()) {
    chunk[0] = static_cast<uint8_t>(done >> 20);
    if (write(fd, chunk.data(), chunk.size()) != static_cast<ssize_t>(chunk.size())) return false;
  }
  fsync(fd);
  close(fd);
  return true;
}

// CPU seconds (user + system) used so far by this process: the reader and the FUSE threads that
// serve it, not the loop device's kernel workers.
double ProcessCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

struct Pass {
  double gbps = 0;          // wall clock, best of the passes
  double gb_per_cpu_s = 0;  // bytes per CPU second of this process, best of the passes
  void Keep(const Pass& p) {
    gbps = std::max(gbps, p.gbps);
    gb_per_cpu_s = std::max(gb_per_cpu_s, p.gb_per_cpu_s);
  }
};

// Sequential read of the whole file with `read_size`-byte reads, in GB/s. O_DIRECT bypasses
// ext4's page cache (every byte goes through loop → FUSE → engine); buffered reads drop the
// file's cached pages first (POSIX_FADV_DONTNEED), so readahead drives the request sizes.
Pass ReadPass(const std::string& path, size_t read_size, bool direct, uint64_t limit) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | (direct ? O_DIRECT : 0));
  if (fd < 0) return {};
  if (!direct) {
    fdatasync(fd);
    posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  }
  auto buf = AlignedBuffer::Allocate(read_size);
  if (!buf.ok()) return {};
  std::memset(buf->data(), 0, read_size);  // fault the buffer in before the clock starts
  uint64_t total = 0;
  const double cpu = ProcessCpuSeconds();
  const double t = Now();
  while (total < limit) {
    const ssize_t n = read(fd, buf->data(), read_size);
    if (n <= 0) break;
    total += static_cast<uint64_t>(n);
  }
  const double dt = Now() - t, dcpu = ProcessCpuSeconds() - cpu;
  close(fd);
  return {total / dt / 1e9, dcpu > 0 ? total / dcpu / 1e9 : 0};
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t mib = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1024;
  const std::string out_dir = argc > 2 ? argv[2] : ".";
  // A closed stdout (e.g. piped into `head`) must not kill us before the stacks are torn down.
  signal(SIGPIPE, SIG_IGN);
  if (geteuid() != 0) {
    std::fprintf(stderr, "mount_read_bench: needs root (FUSE, loop devices, mount)\n");
    return 2;
  }
  testutil::TempDir tmp;
  const uint64_t file_bytes = mib << 20;
  const uint64_t image_bytes = file_bytes + file_bytes / 8 + (64ull << 20);  // room for ext4 metadata
  std::printf("# sequential read of a %llu MiB file on ext4 over loop over FUSE; GB/s = 1e9 bytes/s\n",
              static_cast<unsigned long long>(mib));
  struct Row {
    size_t size;
    bool direct;
    Pass enc, plain;
  };
  std::vector<Row> rows;
  Pass fuse_enc, fuse_plain;
  const std::vector<size_t> sizes = {4096, 16384, 65536, 262144, 1 << 20, 4 << 20};
  {
    const bool plain_first = argc > 3 && std::string(argv[3]) == "plain-first";
    std::unique_ptr<Stack> enc, plain;
    if (plain_first) plain = Build(tmp.path(), "plain", image_bytes, false);
    enc = Build(tmp.path(), "enc", image_bytes, true);
    if (!plain_first) plain = Build(tmp.path(), "plain", image_bytes, false);
    if (!enc || !plain) {
      std::fprintf(stderr, "mount_read_bench: could not build the stacks\n");
      return 1;
    }
    const std::string fe = enc->mnt + "/data.bin", fp = plain->mnt + "/data.bin";
    if (!WriteFile(fe, file_bytes) || !WriteFile(fp, file_bytes)) return 1;
    // The FUSE layer alone: the plaintext image file read directly (no ext4, no loop). More FUSE
    // images over the same encrypted file, whose engines overlap reading and decrypting in
    // 64 KiB chunks (the default is 256 KiB) or never (chunk larger than any request), show what
    // the overlap brings.
    {
      struct Variant {
        const char* label;
        size_t chunk;
        std::unique_ptr<XtsEngine> engine;
        std::unique_ptr<FuseBlockImage> image;
        Pass pass;
      };
      std::vector<Variant> variants;
      variants.push_back({"64 KiB chunks", 64 << 10});
      variants.push_back({"no overlap", size_t{1} << 30});
      for (Variant& v : variants) {
        auto e = XtsEngine::New(enc->engine_key, {.sector_size = 4096, .threads = 2, .pipeline_chunk_bytes = v.chunk});
        const std::string vdir = tmp.path() + "/variant" + std::to_string(v.chunk) + ".fuse";
        std::filesystem::create_directory(vdir);
        if (!e.ok()) continue;
        v.engine = std::move(*e);
        auto f = FuseBlockImage::Start({.mount_dir = vdir,
                                        .device_fd = enc->fd,
                                        .data_offset = 0,
                                        .data_size = image_bytes,
                                        .sector_size = 4096,
                                        .read_only = true},
                                       v.engine.get());
        if (f.ok()) v.image = std::move(*f);
      }
      Pass e, p;
      for (int r = 0; r < 5; ++r) {
        e.Keep(ReadPass(enc->fuse->image_path(), 1 << 20, false, file_bytes));
        p.Keep(ReadPass(plain->fuse->image_path(), 1 << 20, false, file_bytes));
        for (Variant& v : variants) {
          if (v.image) v.pass.Keep(ReadPass(v.image->image_path(), 1 << 20, false, file_bytes));
        }
      }
      fuse_enc = e;
      fuse_plain = p;
      std::printf(
          "FUSE image file alone, 1 MiB reads: encrypted %6.2f GB/s, plain %6.2f GB/s "
          "(per CPU second of this process: %6.2f GB, %6.2f GB)\n",
          e.gbps, p.gbps, e.gb_per_cpu_s, p.gb_per_cpu_s);
      for (Variant& v : variants) {
        if (v.image) v.image->Stop();
        std::printf("  encrypted, %-15s: %6.2f GB/s (per CPU second: %6.2f GB)\n", v.label, v.pass.gbps,
                    v.pass.gb_per_cpu_s);
      }
    }
    if (argc > 4 && std::string(argv[4]) == "fuse-only") return 0;
    for (bool direct : {true, false}) {
      for (size_t s : sizes) {
        // Alternate the two stacks and keep the best of 3 passes each, so background load
        // (the machine is shared) hits both alike.
        // Small O_DIRECT reads are latency-bound (one FUSE round trip each): read 128 MiB of
        // the file for them, the whole file otherwise.
        const uint64_t limit = direct && s < 262144 ? std::min<uint64_t>(file_bytes, 128 << 20) : file_bytes;
        Pass e, p;
        for (int rep = 0; rep < 3; ++rep) {
          if (rep % 2 == 0) {
            e.Keep(ReadPass(fe, s, direct, limit));
            p.Keep(ReadPass(fp, s, direct, limit));
          } else {  // alternate the order too
            p.Keep(ReadPass(fp, s, direct, limit));
            e.Keep(ReadPass(fe, s, direct, limit));
          }
        }
        rows.push_back({s, direct, e, p});
        std::printf(
            "%-8s read %8zu B: encrypted %6.2f GB/s, plain %6.2f GB/s, encryption cost %5.1f%%; "
            "per process CPU second %6.2f vs %6.2f GB (%.2f)\n",
            direct ? "O_DIRECT" : "buffered", s, e.gbps, p.gbps, p.gbps > 0 ? 100.0 * (1 - e.gbps / p.gbps) : 0,
            e.gb_per_cpu_s, p.gb_per_cpu_s, p.gb_per_cpu_s > 0 ? e.gb_per_cpu_s / p.gb_per_cpu_s : 0);
        std::fflush(stdout);
      }
    }
  }
  std::printf("# goal table (mounted rows): encrypted / same stack plain, same run\n");
  std::printf(
      "# (cpu ratio: bytes per CPU second of this process, encrypted / plain; robust against other\n"
      "#  tenants, but blind to the loop device's kernel workers)\n");
  std::printf("| %-44s | %9s | %9s | %5s | %7s | %-6s | %9s |\n", "figure", "enc GB/s", "plain GB/s", "ratio", "goal",
              "", "cpu ratio");
  auto goal_row = [](const std::string& figure, const Pass& e, const Pass& p, double goal) {
    const double ratio = p.gbps > 0 ? e.gbps / p.gbps : 0;
    const double cpu_ratio = p.gb_per_cpu_s > 0 ? e.gb_per_cpu_s / p.gb_per_cpu_s : 0;
    std::printf("| %-44s | %9.2f | %9.2f | %5.2f | >= %.2f | %-6s | %9.2f |\n", figure.c_str(), e.gbps, p.gbps, ratio,
                goal, ratio >= goal ? "met" : "missed", cpu_ratio);
  };
  for (const Row& r : rows) {
    if (r.size < 16384) continue;
    goal_row(std::string(r.direct ? "mounted O_DIRECT read " : "mounted buffered read ") +
                 std::to_string(r.size >> 10) + " KiB",
             r.enc, r.plain, 0.85);
  }
  goal_row("FUSE image alone, 1 MiB reads", fuse_enc, fuse_plain, 0.9);
  const std::string csv = out_dir + "/mount_read_bench.csv";
  {
    std::ofstream f(csv);
    f << "read_bytes,mode,encrypted_gbps,plain_gbps\n";
    for (const Row& r : rows) {
      f << r.size << "," << (r.direct ? "direct" : "buffered") << "," << r.enc.gbps << "," << r.plain.gbps << "\n";
    }
  }
  const std::string png = out_dir + "/mount_read_bench.png";
  const std::string script = out_dir + "/mount_read_bench.gp";
  {
    std::ofstream g(script);
    g << "set terminal pngcairo size 900,540\nset output '" << png << "'\n"
      << "set datafile separator ','\nset logscale x 2\nset key left top\nset termoption noenhanced\n"
      << "set xtics ('4K' 4096, '16K' 16384, '64K' 65536, '256K' 262144, '1M' 1048576, '4M' 4194304)\n"
      << "set yrange [0:*]\n"
      << "set xlabel 'read size (bytes)'\nset ylabel 'GB/s'\n"
      << "set title 'Sequential read, " << mib << " MiB file: ext4 / loop / FUSE, AES-256-XTS vs none'\n"
      << "plot '" << csv
      << "' using (strcol(2) eq 'direct' ? $1 : 1/0):3 skip 1 with linespoints title 'encrypted, O_DIRECT', \\\n"
      << "     '" << csv
      << "' using (strcol(2) eq 'direct' ? $1 : 1/0):4 skip 1 with linespoints title 'plain, O_DIRECT', \\\n"
      << "     '" << csv
      << "' using (strcol(2) eq 'buffered' ? $1 : 1/0):3 skip 1 with linespoints title 'encrypted, buffered', \\\n"
      << "     '" << csv
      << "' using (strcol(2) eq 'buffered' ? $1 : 1/0):4 skip 1 with linespoints title 'plain, buffered'\n";
  }
  std::string out;
  auto rc = RunProgram({"gnuplot", script}, &out);
  if (rc.ok() && *rc == 0) {
    std::printf("plot: %s (data: %s)\n", png.c_str(), csv.c_str());
  } else {
    std::printf("data: %s (no plot: gnuplot missing or failed: %s)\n", csv.c_str(), out.c_str());
  }
  return 0;
}
