// Engine decrypt throughput: prints figures, measured in one run, next to
// `openssl speed -evp aes-256-xts -decrypt` run by this program, an in-place memory pass, the
// OpenSSL path of crypto::XtsSectorCipher in this process, and a naive loop that creates and
// keys a cipher context for every sector. Ends with the engine rows of the goal table of
// storage/bench/RESULTS.md, each next to its reference from the same run. Not a test: it never
// fails on a slow machine.
//
// Usage: xts_engine_bench [buffer MiB, default 1024]
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "crypto/xts_cipher.h"
#include "storage/aligned_buffer.h"
#include "storage/testing/luks_image.h"
#include "storage/xts_engine.h"

namespace {

using cdh::SecretBytes;
using cdh::storage::AlignedBuffer;
using cdh::storage::XtsEngine;

double Now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

// openssl speed's figure for `bytes`-sized blocks in GB/s (its "k" unit is 1000 bytes/s), 0 on failure.
// `-elapsed`: openssl speed divides by user CPU time by default, which on a shared, loaded
// machine overstates it against our wall-clock figures; with -elapsed both use wall time.
double OpensslSpeed(size_t bytes, int multi, bool elapsed = true) {
  std::vector<std::string> argv = {
      "openssl", "speed", "-evp", "aes-256-xts", "-decrypt", "-bytes", std::to_string(bytes), "-seconds", "1"};
  if (elapsed) argv.push_back("-elapsed");
  if (multi > 1) {
    argv.push_back("-multi");
    argv.push_back(std::to_string(multi));
  }
  std::string out;
  auto rc = cdh::storage::testutil::RunProgram(argv, &out);
  if (!rc.ok() || *rc != 0) return 0;
  // Last line: "AES-256-XTS   7451936.77k" (with -multi: "evp  ...k").
  const size_t k = out.rfind('k');
  if (k == std::string::npos) return 0;
  size_t b = k;
  while (b > 0 && (isdigit(static_cast<unsigned char>(out[b - 1])) || out[b - 1] == '.')) --b;
  return std::strtod(out.c_str() + b, nullptr) * 1000 / 1e9;
}

constexpr int kRounds = 3;

// Hot-buffer throughput of one XtsSectorCipher (no engine around it), in GB/s: `inner` passes
// over the first `bytes` of `buf`, in place, best of `reps`.
double CipherDecrypt(cdh::crypto::XtsSectorCipher& c, AlignedBuffer& buf, size_t bytes, size_t sector_size, int inner,
                     int reps) {
  double best = 0;
  std::span<uint8_t> s(buf.data(), bytes);
  for (int r = 0; r < reps; ++r) {
    const double t = Now();
    for (int i = 0; i < inner; ++i) {
      if (!c.CryptSectors(s, s, sector_size, 0, sector_size / 512).ok()) std::exit(1);
    }
    best = std::max(best, static_cast<double>(bytes) * inner / (Now() - t) / 1e9);
  }
  return best;
}

void GoalRow(const char* figure, double value, const char* ref_name, double ref, double goal) {
  const double ratio = ref > 0 ? value / ref : 0;
  std::printf("| %-58s | %6.2f | %-26s %6.2f | %5.2f | >= %.2f | %-6s |\n", figure, value, ref_name, ref, ratio, goal,
              ratio >= goal ? "met" : "missed");
}

SecretBytes BenchKey() {
  SecretBytes k(64);
  for (size_t i = 0; i < 64; ++i) k.RevealMutable()[i] = static_cast<uint8_t>(i * 37 + 11);
  return k;
}

double ThreadCpuNow() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec / 1e9;
}

// One-thread engine throughput per second of this thread's CPU time (user+sys), the unit
// openssl speed uses without -elapsed: immune to other tenants taking the core away.
double EngineDecryptCpu(XtsEngine& e, AlignedBuffer& buf, size_t bytes, int inner) {
  const double t = ThreadCpuNow();
  for (int i = 0; i < inner; ++i) {
    if (!e.Decrypt(0, std::span<const uint8_t>(buf.data(), bytes), std::span<uint8_t>(buf.data(), bytes)).ok()) {
      std::exit(1);
    }
  }
  return static_cast<double>(bytes) * inner / (ThreadCpuNow() - t) / 1e9;
}

// Best of `reps` passes of in-place decryption over `buf`, in GB/s.
double EngineDecrypt(XtsEngine& e, AlignedBuffer& buf, size_t bytes, int reps, int inner = 1) {
  double best = 0;
  for (int r = 0; r < reps; ++r) {
    const double t = Now();
    for (int i = 0; i < inner; ++i) {
      if (!e.Decrypt(0, std::span<const uint8_t>(buf.data(), bytes), std::span<uint8_t>(buf.data(), bytes)).ok()) {
        std::fprintf(stderr, "decrypt failed\n");
        std::exit(1);
      }
    }
    best = std::max(best, static_cast<double>(bytes) * inner / (Now() - t) / 1e9);
  }
  return best;
}

// The memory ceiling for an in-place pass over `bytes` of `buf` on one thread: XOR every
// 64-bit word with a constant (read + write of each byte, like in-place decryption), in GB/s
// of buffer processed. Best of `reps`.
// With `cpu_time`, per second of this thread's CPU time instead of wall clock.
double InPlaceMemoryPass(AlignedBuffer& buf, size_t bytes, int reps, bool cpu_time = false) {
  double best = 0;
  auto* w = reinterpret_cast<volatile uint64_t*>(buf.data());
  for (int r = 0; r < reps; ++r) {
    const double t = cpu_time ? ThreadCpuNow() : Now();
    uint64_t* p = const_cast<uint64_t*>(w);
    for (size_t i = 0; i < bytes / 8; ++i) p[i] ^= 0x5a5a5a5a5a5a5a5aull;
    best = std::max(best, bytes / ((cpu_time ? ThreadCpuNow() : Now()) - t) / 1e9);
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  const size_t mib = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 1024;
  const size_t bytes = mib << 20;
  auto buf = AlignedBuffer::Allocate(bytes);
  if (!buf.ok()) return 1;
  std::memset(buf->data(), 0x5a, bytes);  // pre-fault every page
  const SecretBytes key = BenchKey();

  std::printf("# AES-256-XTS decrypt, in place, %zu MiB buffer, pages pre-faulted; GB/s = 1e9 bytes/s\n", mib);
  std::printf(
      "# best of %d rounds; each round runs every measurement once, interleaved, so load from\n"
      "# other tenants of this shared machine hits references and engine alike\n",
      kRounds);
  auto e4k1 = XtsEngine::New(key, {.sector_size = 4096, .threads = 1});
  auto e4k2 = XtsEngine::New(key, {.sector_size = 4096, .threads = 2});
  auto e5121 = XtsEngine::New(key, {.sector_size = 512, .threads = 1});
  auto e5122 = XtsEngine::New(key, {.sector_size = 512, .threads = 2});
  if (!e4k1.ok() || !e4k2.ok() || !e5121.ok() || !e5122.ok()) return 1;
  double ossl4k = 0, ossl4k2 = 0, ossl512 = 0, mem = 0;
  double one4k = 0, two4k = 0, one512 = 0, two512 = 0, hot4k = 0, hot4k2 = 0, hot512 = 0;
  double cpu_ossl4k = 0, cpu_hot4k = 0, cpu_big4k = 0, cpu_ossl512 = 0, cpu_hot512 = 0, cpu_mem = 0;
  // The same cipher object type with the OpenSSL implementation forced, hot 1 MiB, same run.
  auto chosen4k = cdh::crypto::XtsSectorCipher::New(key, cdh::crypto::XtsDirection::kDecrypt);
  auto fallback = cdh::crypto::XtsSectorCipher::NewOpenSslForTest(key, cdh::crypto::XtsDirection::kDecrypt);
  if (!chosen4k.ok() || !fallback.ok()) return 1;
  double kern4k = 0, kern512 = 0, ossl_path4k = 0, ossl_path512 = 0;
  for (int round = 0; round < kRounds; ++round) {
    ossl4k = std::max(ossl4k, OpensslSpeed(4096, 1));
    one4k = std::max(one4k, EngineDecrypt(**e4k1, *buf, bytes, 1));
    two4k = std::max(two4k, EngineDecrypt(**e4k2, *buf, bytes, 1));
    hot4k = std::max(hot4k, EngineDecrypt(**e4k1, *buf, 1 << 20, 1, 256));
    hot4k2 = std::max(hot4k2, EngineDecrypt(**e4k2, *buf, 1 << 20, 1, 256));
    ossl4k2 = std::max(ossl4k2, OpensslSpeed(4096, 2));
    ossl512 = std::max(ossl512, OpensslSpeed(512, 1));
    one512 = std::max(one512, EngineDecrypt(**e5121, *buf, bytes, 1));
    two512 = std::max(two512, EngineDecrypt(**e5122, *buf, bytes, 1));
    hot512 = std::max(hot512, EngineDecrypt(**e5121, *buf, 1 << 20, 1, 256));
    mem = std::max(mem, InPlaceMemoryPass(*buf, bytes, 1));
    cpu_mem = std::max(cpu_mem, InPlaceMemoryPass(*buf, bytes, 1, /*cpu_time=*/true));
    cpu_ossl4k = std::max(cpu_ossl4k, OpensslSpeed(4096, 1, /*elapsed=*/false));
    cpu_hot4k = std::max(cpu_hot4k, EngineDecryptCpu(**e4k1, *buf, 1 << 20, 256));
    cpu_big4k = std::max(cpu_big4k, EngineDecryptCpu(**e4k1, *buf, bytes, 1));
    cpu_ossl512 = std::max(cpu_ossl512, OpensslSpeed(512, 1, /*elapsed=*/false));
    cpu_hot512 = std::max(cpu_hot512, EngineDecryptCpu(**e5121, *buf, 1 << 20, 256));
    kern4k = std::max(kern4k, CipherDecrypt(**chosen4k, *buf, 1 << 20, 4096, 256, 1));
    ossl_path4k = std::max(ossl_path4k, CipherDecrypt(**fallback, *buf, 1 << 20, 4096, 256, 1));
    kern512 = std::max(kern512, CipherDecrypt(**chosen4k, *buf, 1 << 20, 512, 256, 1));
    ossl_path512 = std::max(ossl_path512, CipherDecrypt(**fallback, *buf, 1 << 20, 512, 256, 1));
  }
  std::printf("openssl speed -evp aes-256-xts -decrypt -elapsed -bytes 4096 : %6.2f GB/s\n", ossl4k);
  std::printf("openssl speed ... -elapsed -bytes 4096 -multi 2             : %6.2f GB/s\n", ossl4k2);
  std::printf("openssl speed -evp aes-256-xts -decrypt -elapsed -bytes 512  : %6.2f GB/s\n", ossl512);
  std::printf("in-place memory pass (xor, 1 thread, no crypto)            : %6.2f GB/s on %zu MiB (memory ceiling)\n",
              mem, mib);
  std::printf("engine 4096-byte sectors, 1 thread : %6.2f GB/s on %zu MiB; %6.2f GB/s on a hot 1 MiB buffer\n", one4k,
              mib, hot4k);
  std::printf("engine 4096-byte sectors, 2 threads: %6.2f GB/s on %zu MiB; %6.2f GB/s on a hot 1 MiB buffer\n", two4k,
              mib, hot4k2);
  std::printf("engine  512-byte sectors, 1 thread : %6.2f GB/s on %zu MiB; %6.2f GB/s on a hot 1 MiB buffer\n", one512,
              mib, hot512);
  std::printf("engine  512-byte sectors, 2 threads: %6.2f GB/s on %zu MiB\n", two512, mib);
  std::printf("(engine contexts use %s; forced fallback: %s)\n",
              cdh::crypto::XtsImplementationName((*chosen4k)->implementation()),
              cdh::crypto::XtsImplementationName((*fallback)->implementation()));
  std::printf("cipher alone, hot 1 MiB, 4096-byte sectors: %s %6.2f GB/s, %s %6.2f GB/s (ratio %.2f)\n",
              cdh::crypto::XtsImplementationName((*chosen4k)->implementation()), kern4k,
              cdh::crypto::XtsImplementationName((*fallback)->implementation()), ossl_path4k,
              ossl_path4k > 0 ? kern4k / ossl_path4k : 0);
  std::printf("cipher alone, hot 1 MiB,  512-byte sectors: %s %6.2f GB/s, %s %6.2f GB/s (ratio %.2f)\n",
              cdh::crypto::XtsImplementationName((*chosen4k)->implementation()), kern512,
              cdh::crypto::XtsImplementationName((*fallback)->implementation()), ossl_path512,
              ossl_path512 > 0 ? kern512 / ossl_path512 : 0);
  // Naive: new context + key per sector, on 128 MiB (it is slow).
  const size_t naive_bytes = std::min<size_t>(bytes, 128 << 20);
  double naive = 0;
  for (int r = 0; r < 2; ++r) {
    const double t = Now();
    std::span<uint8_t> s(buf->data(), naive_bytes);
    if (!cdh::crypto::XtsCryptSectorsRekeyingEachSectorForTest(key, cdh::crypto::XtsDirection::kDecrypt, s, s, 4096, 0,
                                                               8)
             .ok())
      return 1;
    naive = std::max(naive, naive_bytes / (Now() - t) / 1e9);
  }
  std::printf("naive loop (new context + key per 4096-byte sector)       : %6.2f GB/s on %zu MiB\n", naive,
              naive_bytes >> 20);
  std::printf("ratio engine 1T / openssl speed (4096)   : %.2f  (goal >= 0.90)\n", ossl4k > 0 ? one4k / ossl4k : 0);
  std::printf("ratio engine 1T hot 1 MiB / openssl (4096): %.2f  (same cache-resident setting as openssl speed)\n",
              ossl4k > 0 ? hot4k / ossl4k : 0);
  std::printf("ratio engine 1T / openssl speed (512)    : %.2f\n", ossl512 > 0 ? one512 / ossl512 : 0);
  std::printf("ratio engine 1T hot 1 MiB / openssl (512) : %.2f\n", ossl512 > 0 ? hot512 / ossl512 : 0);
  std::printf("ratio engine 2T / engine 1T (4096)       : %.2f  (goal >= 1.70)\n", one4k > 0 ? two4k / one4k : 0);
  std::printf("ratio engine 2T / 1T, hot 1 MiB (4096)   : %.2f\n", hot4k > 0 ? hot4k2 / hot4k : 0);
  std::printf("ratio openssl -multi 2 / 1 (4096)        : %.2f  (what the machine gave two processes)\n",
              ossl4k > 0 ? ossl4k2 / ossl4k : 0);
  std::printf("ratio engine 1T / naive loop (4096)      : %.2f\n", naive > 0 ? one4k / naive : 0);
  std::printf("# per second of CPU time (openssl speed's default unit; robust against other tenants)\n");
  std::printf("openssl speed (CPU time) 4096: %6.2f GB/s; engine 1T: %6.2f GB/s hot 1 MiB, %6.2f GB/s on %zu MiB\n",
              cpu_ossl4k, cpu_hot4k, cpu_big4k, mib);
  std::printf("openssl speed (CPU time)  512: %6.2f GB/s; engine 1T: %6.2f GB/s hot 1 MiB\n", cpu_ossl512, cpu_hot512);
  std::printf("ratio engine 1T / openssl, CPU time (4096): %.2f hot, %.2f on %zu MiB (goal >= 0.90)\n",
              cpu_ossl4k > 0 ? cpu_hot4k / cpu_ossl4k : 0, cpu_ossl4k > 0 ? cpu_big4k / cpu_ossl4k : 0, mib);
  std::printf("ratio engine 1T / openssl, CPU time  (512): %.2f hot\n", cpu_ossl512 > 0 ? cpu_hot512 / cpu_ossl512 : 0);
  std::printf("ratio engine 1T / memory ceiling (4096)  : %.2f\n", mem > 0 ? one4k / mem : 0);
  std::printf("# goal table (engine rows), wall clock, every reference from this run\n");
  std::printf("| %-58s | %6s | %-33s | %5s | %7s | %-6s |\n", "figure", "GB/s", "reference (GB/s)", "ratio", "goal",
              "");
  GoalRow("engine 1 thread, hot 1 MiB, 4096-byte sectors", hot4k, "openssl speed 4096", ossl4k, 1.5);
  GoalRow("engine 1 thread, large buffer, 4096-byte sectors", one4k, "in-place memory pass", mem, 0.8);
  GoalRow("engine 1 thread, hot 1 MiB, 512-byte sectors", hot512, "openssl speed 512", ossl512, 1.3);
  GoalRow("engine 1 thread, large buffer, 512-byte sectors", one512, "openssl speed 512", ossl512, 1.3);
  std::printf("# the same rows per second of CPU time (openssl speed's default unit)\n");
  GoalRow("engine 1 thread, hot 1 MiB, 4096-byte sectors (CPU time)", cpu_hot4k, "openssl speed 4096 (CPU)", cpu_ossl4k,
          1.5);
  GoalRow("engine 1 thread, hot 1 MiB, 512-byte sectors (CPU time)", cpu_hot512, "openssl speed 512 (CPU)", cpu_ossl512,
          1.3);
  GoalRow("engine 1 thread, large buffer, 4096 (CPU time)", cpu_big4k, "memory pass (CPU)", cpu_mem, 0.8);
  return 0;
}
