#include "storage/xts_engine.h"

#include <atomic>
#include <utility>

#include "common/status_macros.h"
#include "common/strings.h"

namespace cdh::storage {
namespace {

absl::StatusOr<std::unique_ptr<crypto::XtsSectorCipher>> NewCipher(const SecretBytes& key, crypto::XtsDirection d) {
  return crypto::XtsSectorCipher::New(key, d);
}

}  // namespace

absl::StatusOr<std::unique_ptr<XtsEngine>> XtsEngine::New(const SecretBytes& volume_key, XtsEngineOptions options) {
  if (options.sector_size != 512 && options.sector_size != 4096) {
    return absl::InvalidArgumentError(StrCat("sector size must be 512 or 4096 bytes, got ", options.sector_size));
  }
  if (options.threads < 1 || options.threads > 64) {
    return absl::InvalidArgumentError(StrCat("XTS engine threads must be 1..64, got ", options.threads));
  }
  if (options.pipeline_chunk_bytes == 0 || options.pipeline_chunk_bytes % options.sector_size != 0) {
    return absl::InvalidArgumentError(
        StrCat("XTS engine pipeline chunk must be whole sectors, got ", options.pipeline_chunk_bytes, " bytes"));
  }
  std::unique_ptr<XtsEngine> engine(new XtsEngine(volume_key.Clone(), options));
  // Key every context up front so a bad key fails here, not on the first read.
  for (unsigned i = 0; i + 1 < options.threads; ++i) {
    auto pair = std::make_unique<CipherPair>();
    CDH_ASSIGN_OR_RETURN(pair->enc, NewCipher(engine->key_, crypto::XtsDirection::kEncrypt));
    CDH_ASSIGN_OR_RETURN(pair->dec, NewCipher(engine->key_, crypto::XtsDirection::kDecrypt));
    engine->worker_pairs_.push_back(std::move(pair));
  }
  CDH_ASSIGN_OR_RETURN(auto first, engine->LeasePair());
  engine->ReturnPair(std::move(first));
  for (unsigned i = 0; i + 1 < options.threads; ++i) {
    engine->workers_.emplace_back([e = engine.get(), i] { e->WorkerLoop(i); });
  }
  return engine;
}

XtsEngine::XtsEngine(SecretBytes key, XtsEngineOptions options) : key_(std::move(key)), options_(options) {}

XtsEngine::~XtsEngine() {
  {
    absl::MutexLock l(&queue_mu_);
    stopping_ = true;
  }
  for (auto& t : workers_) t.join();
}

void XtsEngine::WorkerLoop(unsigned index) {
  CipherPair& pair = *worker_pairs_[index];
  for (;;) {
    Job job;
    {
      absl::MutexLock l(&queue_mu_);
      queue_mu_.Await(absl::Condition(this, &XtsEngine::WorkerShouldWake));
      if (queue_.empty()) return;  // stopping and drained
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    job.run(pair);
  }
}

bool XtsEngine::WorkerShouldWake() const { return stopping_ || !queue_.empty(); }

void XtsEngine::Enqueue(const void* owner, std::function<void(CipherPair&)> run) {
  absl::MutexLock l(&queue_mu_);
  queue_.push_back({owner, std::move(run)});
}

size_t XtsEngine::RemoveQueued(const void* owner) {
  absl::MutexLock l(&queue_mu_);
  return std::erase_if(queue_, [owner](const Job& j) { return j.owner == owner; });
}

absl::StatusOr<std::unique_ptr<XtsEngine::CipherPair>> XtsEngine::LeasePair() {
  {
    absl::MutexLock l(&pool_mu_);
    if (!free_pairs_.empty()) {
      auto p = std::move(free_pairs_.back());
      free_pairs_.pop_back();
      return p;
    }
  }
  auto pair = std::make_unique<CipherPair>();
  CDH_ASSIGN_OR_RETURN(pair->enc, NewCipher(key_, crypto::XtsDirection::kEncrypt));
  CDH_ASSIGN_OR_RETURN(pair->dec, NewCipher(key_, crypto::XtsDirection::kDecrypt));
  return pair;
}

void XtsEngine::ReturnPair(std::unique_ptr<CipherPair> pair) {
  absl::MutexLock l(&pool_mu_);
  free_pairs_.push_back(std::move(pair));
}

absl::Status XtsEngine::Decrypt(uint64_t first_sector, std::span<const uint8_t> in, std::span<uint8_t> out) {
  return Crypt(crypto::XtsDirection::kDecrypt, first_sector, in, out);
}

absl::Status XtsEngine::Encrypt(uint64_t first_sector, std::span<const uint8_t> in, std::span<uint8_t> out) {
  return Crypt(crypto::XtsDirection::kEncrypt, first_sector, in, out);
}

absl::Status XtsEngine::CryptSlice(CipherPair& pair, crypto::XtsDirection dir, uint64_t first_sector,
                                   std::span<const uint8_t> in, std::span<uint8_t> out) {
  const uint64_t step = options_.sector_size / 512;  // plain64 counts 512-byte units
  crypto::XtsSectorCipher& c = dir == crypto::XtsDirection::kEncrypt ? *pair.enc : *pair.dec;
  return c.CryptSectors(in, out, options_.sector_size, first_sector * step, step);
}

absl::Status XtsEngine::CheckRequest(uint64_t first_sector, size_t in_size, size_t out_size) const {
  const size_t ss = options_.sector_size;
  if (in_size != out_size || in_size % ss != 0) {
    return absl::InvalidArgumentError(
        StrCat("XTS request of ", in_size, "/", out_size, " bytes is not whole ", ss, "-byte sectors"));
  }
  if (first_sector > (UINT64_MAX / 8) - in_size / ss) return absl::InvalidArgumentError("sector number overflows");
  return absl::OkStatus();
}

// The tasks of one request, shared between the caller and the workers: each task runs exactly
// once, on whichever thread claims it first. Offer() queues a task for the workers; Finish()
// takes back the jobs no worker has started (waiting for a busy or descheduled worker would cost
// more than running them here), runs every unclaimed task on the caller's thread, newest first,
// and waits for the tasks workers are running (their jobs point at this object). `task` is
// referenced, not copied: it must outlive the object.
class XtsEngine::SharedTasks {
 public:
  SharedTasks(XtsEngine& engine, size_t n, absl::FunctionRef<void(CipherPair&, size_t)> task)
      : engine_(engine), claimed_(n), task_(task) {}
  SharedTasks(const SharedTasks&) = delete;
  SharedTasks& operator=(const SharedTasks&) = delete;

  void Offer(size_t i) {
    {
      absl::MutexLock l(&mu_);
      ++queued_;
    }
    engine_.Enqueue(this, [this, i](CipherPair& p) {
      if (!claimed_[i].exchange(true)) task_(p, i);
      absl::MutexLock l(&mu_);
      --queued_;
    });
  }
  // Runs task i here unless a worker claimed it.
  void RunHere(CipherPair& own, size_t i) {
    if (!claimed_[i].exchange(true)) task_(own, i);
  }
  // `run_unclaimed` false (after an error): tasks nobody started are dropped.
  void Finish(CipherPair& own, bool run_unclaimed) {
    const size_t taken_back = engine_.RemoveQueued(this);
    for (size_t i = claimed_.size(); i-- > 0;) {
      if (!claimed_[i].exchange(true) && run_unclaimed) task_(own, i);
    }
    absl::MutexLock l(&mu_);
    queued_ -= taken_back;
    mu_.Await(absl::Condition(
        +[](size_t* q) { return *q == 0; }, &queued_));
  }

 private:
  XtsEngine& engine_;
  std::vector<std::atomic<bool>> claimed_;
  const absl::FunctionRef<void(CipherPair&, size_t)> task_;
  absl::Mutex mu_;
  size_t queued_ ABSL_GUARDED_BY(mu_) = 0;  // jobs in the queue or running
};

absl::Status XtsEngine::Crypt(crypto::XtsDirection dir, uint64_t first_sector, std::span<const uint8_t> in,
                              std::span<uint8_t> out) {
  const size_t ss = options_.sector_size;
  CDH_RETURN_IF_ERROR(CheckRequest(first_sector, in.size(), out.size()));
  const uint64_t sectors = in.size() / ss;
  CDH_ASSIGN_OR_RETURN(auto pair, LeasePair());
  const unsigned slices = (workers_.empty() || in.size() < options_.min_parallel_bytes)
                              ? 1
                              : static_cast<unsigned>(std::min<uint64_t>(workers_.size() + 1, sectors));
  absl::Status status;
  if (slices == 1) {
    status = CryptSlice(*pair, dir, first_sector, in, out);
  } else {
    // Slice i covers sectors [sectors*i/slices, sectors*(i+1)/slices). Slices 1.. are offered
    // to the workers; the caller runs slice 0, then whatever no worker has started.
    std::vector<absl::Status> results(slices);
    auto bounds = [&](size_t i) { return sectors * i / slices; };
    auto slice = [&](CipherPair& p, size_t i) {
      const uint64_t b = bounds(i), e = bounds(i + 1);
      results[i] =
          CryptSlice(p, dir, first_sector + b, in.subspan(b * ss, (e - b) * ss), out.subspan(b * ss, (e - b) * ss));
    };
    SharedTasks tasks(*this, slices, slice);
    for (unsigned i = 1; i < slices; ++i) tasks.Offer(i);
    tasks.RunHere(*pair, 0);
    tasks.Finish(*pair, /*run_unclaimed=*/true);
    for (auto& r : results) status.Update(r);
  }
  ReturnPair(std::move(pair));
  return status;
}

absl::Status XtsEngine::FillAndDecrypt(uint64_t first_sector, std::span<uint8_t> buf,
                                       absl::FunctionRef<absl::Status(size_t, std::span<uint8_t>)> fill) {
  CDH_RETURN_IF_ERROR(CheckRequest(first_sector, buf.size(), buf.size()));
  const size_t ss = options_.sector_size, chunk = options_.pipeline_chunk_bytes;
  if (workers_.empty() || buf.size() < 2 * chunk) {
    CDH_RETURN_IF_ERROR(fill(0, buf));
    return Decrypt(first_sector, buf, buf);
  }
  // Chunk k covers bytes [k*chunk, min((k+1)*chunk, size)). Each chunk but the last is offered
  // to the workers as soon as it is filled; the caller decrypts the last one and whatever no
  // worker has started.
  const size_t chunks = (buf.size() + chunk - 1) / chunk;
  std::vector<absl::Status> results(chunks);
  CDH_ASSIGN_OR_RETURN(auto pair, LeasePair());
  auto decrypt_chunk = [&](CipherPair& p, size_t k) {
    const size_t off = k * chunk, len = std::min(chunk, buf.size() - off);
    results[k] = CryptSlice(p, crypto::XtsDirection::kDecrypt, first_sector + off / ss, buf.subspan(off, len),
                            buf.subspan(off, len));
  };
  SharedTasks tasks(*this, chunks, decrypt_chunk);
  absl::Status fill_status;
  for (size_t k = 0; k < chunks; ++k) {
    const size_t off = k * chunk, len = std::min(chunk, buf.size() - off);
    fill_status = fill(off, buf.subspan(off, len));
    if (!fill_status.ok()) break;
    if (k + 1 < chunks) tasks.Offer(k);
  }
  tasks.Finish(*pair, /*run_unclaimed=*/fill_status.ok());
  ReturnPair(std::move(pair));
  if (!fill_status.ok()) return fill_status;
  absl::Status status;
  for (auto& r : results) status.Update(r);
  return status;
}

}  // namespace cdh::storage
