// LayerStore: the layer cache under `<work_dir>/layers/`, keyed by diff_id (the digest of the
// uncompressed layer, image-pull spec §1.4 — upstream keys by compressed digest).
//
// - A layer directory `<alg>-<hex>` appears only by rename(2) from `<work_dir>/staging/`, after
//   the blob digest, the HMAC (encrypted layers) and the diff_id were checked, together with a
//   record `<alg>-<hex>.json` describing the tree (paths, types, sizes, modes, owners, link
//   targets). Reuse re-walks the directory and compares it with the record (metadata only, no
//   content hashing: a changed, added or removed entry or a changed size is caught, a same-size
//   in-place content change is not). A mismatch or a missing record removes the entry and the
//   layer is fetched again.
// - Concurrent pulls needing the same diff_id share one download: the first caller gets a
//   Lease to fill, the others wait for its outcome.
// - Leftover staging directories (a crash mid-pull) are removed when the store opens.
// Thread-safe; neither copyable nor movable.
#ifndef CDH_IMAGE_LAYER_STORE_H_
#define CDH_IMAGE_LAYER_STORE_H_

#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/call_context.h"
#include "image/digest.h"

namespace cdh::image {

class LayerStore {
 public:
  // Creates `<work_dir>/layers` and `<work_dir>/staging` (0700). INTERNAL on I/O errors.
  static absl::StatusOr<std::unique_ptr<LayerStore>> Open(const std::string& work_dir);
  LayerStore(const LayerStore&) = delete;
  LayerStore& operator=(const LayerStore&) = delete;

  // The right to fill one layer: a fresh staging directory. Commit publishes it; destroying an
  // uncommitted lease removes the staging directory and wakes waiters (who then try themselves).
  // Move-only; not thread-safe.
  class Lease {
   public:
    ~Lease();
    Lease(Lease&&) = delete;
    const std::string& staging_dir() const { return staging_; }
    // Records the tree and renames the staging directory into the cache; returns its path.
    absl::StatusOr<std::string> Commit();

   private:
    friend class LayerStore;
    Lease(LayerStore& store, Digest diff_id, std::string staging)
        : store_(store), diff_id_(std::move(diff_id)), staging_(std::move(staging)) {}
    LayerStore& store_;
    Digest diff_id_;
    std::string staging_;
    bool committed_ = false;
  };

  struct Acquired {
    std::string path;              // set: the layer is cached and verified at this path
    std::unique_ptr<Lease> lease;  // set: the caller must fill and commit it
  };
  // Either the cached layer or a lease; waits while another caller holds the lease for the same
  // diff_id. DEADLINE_EXCEEDED when `deadline` passes while waiting.
  absl::StatusOr<Acquired> Acquire(const Digest& diff_id, const CallContext& ctx);

  std::string LayerPath(const Digest& diff_id) const;
  const std::string& work_dir() const { return work_dir_; }
  // Number of corrupted entries found and removed so far (for tests).
  int corrupted_entries_removed() const;

 private:
  explicit LayerStore(std::string work_dir) : work_dir_(std::move(work_dir)) {}
  void Release(const Digest& diff_id);
  bool VerifyCached(const Digest& diff_id);

  const std::string work_dir_;
  mutable absl::Mutex mu_;
  std::map<Digest, bool> in_flight_ ABSL_GUARDED_BY(mu_);
  int corrupted_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t staging_counter_ ABSL_GUARDED_BY(mu_) = 0;
};

// A description of a directory tree (metadata of every entry, sorted by path), as the cache
// records it. INTERNAL when the tree cannot be read.
absl::StatusOr<std::string> DescribeTree(const std::string& dir);

}  // namespace cdh::image

#endif  // CDH_IMAGE_LAYER_STORE_H_
