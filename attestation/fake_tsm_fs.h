// FakeTsmFs: an in-memory emulation of the kernel's configfs-tsm report semantics (attesters.md
// §3.1, §3.3), for tests on machines without a TDX or SNP guest kernel. It stands in for
// hardware that cannot run here; it reproduces:
//   - mkdir creates an entry with `provider` ("<name>\n") and `generation` ("0\n");
//   - `inblob` is write-only, at most 64 bytes (TSM_REPORT_INBLOB_MAX) and, for the tdx_guest and
//     sev_guest providers, exactly 64 (EINVAL otherwise); every write bumps `generation`;
//   - `outblob` is generated lazily on the first read after a change; reading it before any
//     inblob write fails with EINVAL; `auxblob` is visible only for sev_guest;
//   - rmdir deletes the entry; ENXIO on mkdir when no provider is registered.
// Fault injection for quote-service failures and the generation race: a missing root, no provider, EIO
// from outblob, an outblob read that blocks until released,
// and a foreign writer that writes into the next N entries right after the caller's own write.
//
// Thread-safe; neither copyable nor movable. Library code so other tests can use it.
#ifndef CDH_ATTESTATION_FAKE_TSM_FS_H_
#define CDH_ATTESTATION_FAKE_TSM_FS_H_

#include <functional>
#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "attestation/tsm_report.h"

namespace cdh::attestation {

class FakeTsmFs : public TsmFs {
 public:
  // Produces the blob for an inblob (the "hardware"). May return an error (propagated as-is).
  using BlobFn = std::function<absl::StatusOr<std::string>(std::string_view inblob)>;

  FakeTsmFs(std::string provider, BlobFn outblob, BlobFn auxblob = nullptr);
  ~FakeTsmFs() override;
  FakeTsmFs(const FakeTsmFs&) = delete;
  FakeTsmFs& operator=(const FakeTsmFs&) = delete;

  absl::Status MakeEntry(std::string_view entry) override;
  absl::Status RemoveEntry(std::string_view entry) override;
  absl::StatusOr<std::string> ReadAttribute(std::string_view entry, std::string_view attribute,
                                            size_t max_bytes) override;
  absl::Status WriteAttribute(std::string_view entry, std::string_view attribute, std::string_view bytes) override;
  std::string PathOf(std::string_view entry, std::string_view attribute) const override;

  // Fault injection.
  void SetRootMissing(bool v);
  void SetNoProvider(bool v);
  void SetOutblobEio(bool v);
  void SetOutblobHangs(bool v);  // outblob reads block until ReleaseHangs()
  void ReleaseHangs();
  void SetForeignWrites(int entries);  // the next `entries` entries get a foreign write

  bool HasEntry(std::string_view entry);
  const std::string& provider() const { return provider_; }
  size_t EntryCount();
  int entries_created();
  // Blocks until no entry exists or `timeout` passes; true when none exists.
  bool WaitForNoEntries(absl::Duration timeout);

 private:
  struct Entry {
    uint64_t generation = 0;
    bool written = false;
    std::string inblob;
    std::optional<std::string> outblob;  // cached until the next write
    bool foreign_write_pending = false;
  };
  absl::Status WriteLocked(Entry& e, std::string_view entry, std::string_view bytes) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string provider_;
  const BlobFn outblob_fn_;
  const BlobFn auxblob_fn_;
  absl::Mutex mu_;
  std::map<std::string, Entry, std::less<>> entries_ ABSL_GUARDED_BY(mu_);
  bool root_missing_ ABSL_GUARDED_BY(mu_) = false;
  bool no_provider_ ABSL_GUARDED_BY(mu_) = false;
  bool outblob_eio_ ABSL_GUARDED_BY(mu_) = false;
  bool hang_ ABSL_GUARDED_BY(mu_) = false;
  int foreign_writes_ ABSL_GUARDED_BY(mu_) = 0;
  int created_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace cdh::attestation

#endif  // CDH_ATTESTATION_FAKE_TSM_FS_H_
