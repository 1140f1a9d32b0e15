// XtsEngine: decrypts and encrypts runs of LUKS2 data-segment sectors with AES-XTS-plain64,
// spreading large requests over worker threads.
//
// Units: `first_sector` counts sectors of `sector_size` bytes (512 or 4096) from the start of the
// data segment; buffers are whole sectors. The plain64 IV counts 512-byte units whatever the
// sector size, so 4096-byte sector k uses tweak 8*k (build-env.md §6; cdh-api.md §11).
//
// Each thread uses its own keyed crypto::XtsSectorCipher (key schedule once per context, never
// per sector; the VAES kernel where the CPU has it, see crypto/xts_cipher.h). A request of at
// least `min_parallel_bytes` is cut into `threads` contiguous slices; the caller's thread does one
// slice and waits for the workers. FillAndDecrypt() overlaps reading the ciphertext (on the
// caller's thread) with decrypting what has already been read (on the workers).
//
// Thread-safe: any number of callers may use one engine concurrently. Neither copyable nor
// movable (workers point at it). Holds a copy of the volume key (SecretBytes) to key contexts
// for new callers; it is wiped on destruction.
#ifndef CDH_STORAGE_XTS_ENGINE_H_
#define CDH_STORAGE_XTS_ENGINE_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <span>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/secret_bytes.h"
#include "absl/synchronization/mutex.h"
#include "crypto/xts_cipher.h"

namespace cdh::storage {

struct XtsEngineOptions {
  size_t sector_size = 4096;               // bytes: 512 or 4096
  unsigned threads = 1;                    // 1..64; slices per large request
  size_t min_parallel_bytes = 256 * 1024;  // smaller requests run on the caller's thread only
  // FillAndDecrypt(): bytes per chunk handed to a worker (a multiple of sector_size); requests
  // shorter than two chunks are filled, then decrypted like Decrypt().
  size_t pipeline_chunk_bytes = 64 * 1024;
};

class XtsEngine {
 public:
  // `volume_key`: 64 bytes (aes-xts-plain64 with a 512-bit key) or 32 bytes (256-bit key).
  // INVALID_ARGUMENT for a bad key, sector size or thread count; INTERNAL if OpenSSL fails.
  static absl::StatusOr<std::unique_ptr<XtsEngine>> New(const SecretBytes& volume_key, XtsEngineOptions options);
  ~XtsEngine();
  XtsEngine(const XtsEngine&) = delete;
  XtsEngine& operator=(const XtsEngine&) = delete;

  // Ciphertext → plaintext. `in` and `out` have equal sizes, a multiple of sector_size, and may
  // be the same memory. INVALID_ARGUMENT for bad sizes; INTERNAL if OpenSSL fails.
  absl::Status Decrypt(uint64_t first_sector, std::span<const uint8_t> in, std::span<uint8_t> out);
  // Plaintext → ciphertext, same contract.
  absl::Status Encrypt(uint64_t first_sector, std::span<const uint8_t> in, std::span<uint8_t> out);

  // Reads and decrypts `buf` (whole sectors from `first_sector`) in place, chunk by chunk:
  // `fill(offset, chunk)` must write the ciphertext of bytes [offset, offset + chunk.size()) of
  // the request into `chunk` (e.g. a pread from the device); it runs on the caller's thread, in
  // order, while chunks already filled are decrypted by the workers. The caller decrypts the
  // last chunk and any chunk no worker has started. The first error of `fill` is returned (no
  // further fill calls; `buf` then unspecified); INVALID_ARGUMENT for bad sizes; INTERNAL if
  // the cipher fails.
  absl::Status FillAndDecrypt(uint64_t first_sector, std::span<uint8_t> buf,
                              absl::FunctionRef<absl::Status(size_t offset, std::span<uint8_t> chunk)> fill);

  size_t sector_size() const { return options_.sector_size; }

 private:
  struct CipherPair {
    std::unique_ptr<crypto::XtsSectorCipher> enc, dec;
  };
  XtsEngine(SecretBytes key, XtsEngineOptions options);
  absl::Status CheckRequest(uint64_t first_sector, size_t in_size, size_t out_size) const;
  absl::Status Crypt(crypto::XtsDirection dir, uint64_t first_sector, std::span<const uint8_t> in,
                     std::span<uint8_t> out);
  class SharedTasks;
  // A job of request `owner` (any address unique to the request while it runs).
  struct Job {
    const void* owner;
    std::function<void(CipherPair&)> run;
  };
  void Enqueue(const void* owner, std::function<void(CipherPair&)> run) ABSL_LOCKS_EXCLUDED(queue_mu_);
  // Takes `owner`'s jobs that no worker has started out of the queue; returns how many.
  size_t RemoveQueued(const void* owner) ABSL_LOCKS_EXCLUDED(queue_mu_);
  bool WorkerShouldWake() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(queue_mu_);
  absl::Status CryptSlice(CipherPair& pair, crypto::XtsDirection dir, uint64_t first_sector,
                          std::span<const uint8_t> in, std::span<uint8_t> out);
  absl::StatusOr<std::unique_ptr<CipherPair>> LeasePair();
  void ReturnPair(std::unique_ptr<CipherPair> pair);
  void WorkerLoop(unsigned index);

  const SecretBytes key_;
  const XtsEngineOptions options_;

  absl::Mutex pool_mu_;
  std::vector<std::unique_ptr<CipherPair>> free_pairs_ ABSL_GUARDED_BY(pool_mu_);

  absl::Mutex queue_mu_;
  std::deque<Job> queue_ ABSL_GUARDED_BY(queue_mu_);
  bool stopping_ ABSL_GUARDED_BY(queue_mu_) = false;
  std::vector<std::unique_ptr<CipherPair>> worker_pairs_;
  std::vector<std::thread> workers_;
};

}  // namespace cdh::storage

#endif  // CDH_STORAGE_XTS_ENGINE_H_
