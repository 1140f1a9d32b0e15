#include "storage/xts_engine.h"

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
    std::lock_guard<std::mutex> l(queue_mu_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void XtsEngine::WorkerLoop(unsigned index) {
  CipherPair& pair = *worker_pairs_[index];
  for (;;) {
    std::function<void(CipherPair&)> job;
    {
      std::unique_lock<std::mutex> l(queue_mu_);
      queue_cv_.wait(l, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    job(pair);
  }
}

absl::StatusOr<std::unique_ptr<XtsEngine::CipherPair>> XtsEngine::LeasePair() {
  {
    std::lock_guard<std::mutex> l(pool_mu_);
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
  std::lock_guard<std::mutex> l(pool_mu_);
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

absl::Status XtsEngine::Crypt(crypto::XtsDirection dir, uint64_t first_sector, std::span<const uint8_t> in,
                              std::span<uint8_t> out) {
  const size_t ss = options_.sector_size;
  if (in.size() != out.size() || in.size() % ss != 0) {
    return absl::InvalidArgumentError(StrCat("XTS request of ", in.size(), "/", out.size(),
                                             " bytes is not whole ", ss, "-byte sectors"));
  }
  const uint64_t sectors = in.size() / ss;
  if (first_sector > (UINT64_MAX / 8) - sectors) return absl::InvalidArgumentError("sector number overflows");
  CDH_ASSIGN_OR_RETURN(auto pair, LeasePair());
  const unsigned slices = (workers_.empty() || in.size() < options_.min_parallel_bytes)
                              ? 1
                              : static_cast<unsigned>(std::min<uint64_t>(workers_.size() + 1, sectors));
  absl::Status status;
  if (slices == 1) {
    status = CryptSlice(*pair, dir, first_sector, in, out);
  } else {
    // Slice i covers sectors [sectors*i/slices, sectors*(i+1)/slices). Slices 1.. go to workers.
    std::mutex done_mu;
    std::condition_variable done_cv;
    unsigned pending = slices - 1;
    std::vector<absl::Status> results(slices);
    auto bounds = [&](unsigned i) { return sectors * i / slices; };
    {
      std::lock_guard<std::mutex> l(queue_mu_);
      for (unsigned i = 1; i < slices; ++i) {
        const uint64_t b = bounds(i), e = bounds(i + 1);
        queue_.push_back([&, i, b, e](CipherPair& wp) {
          results[i] = CryptSlice(wp, dir, first_sector + b, in.subspan(b * ss, (e - b) * ss),
                                  out.subspan(b * ss, (e - b) * ss));
          std::lock_guard<std::mutex> dl(done_mu);
          if (--pending == 0) done_cv.notify_one();
        });
      }
    }
    queue_cv_.notify_all();
    const uint64_t e0 = bounds(1);
    results[0] = CryptSlice(*pair, dir, first_sector, in.subspan(0, e0 * ss), out.subspan(0, e0 * ss));
    std::unique_lock<std::mutex> dl(done_mu);
    done_cv.wait(dl, [&] { return pending == 0; });
    for (auto& r : results) status.Update(r);
  }
  ReturnPair(std::move(pair));
  return status;
}

}  // namespace cdh::storage
