// configfs-tsm report ABI (attesters.md §3.1; Linux Documentation/ABI/testing/configfs-tsm-report)
// and the procedure that turns it into one report (§3.2, done better than upstream).
//
// Layering:
//   TsmFs        the file-level operations on <root>/<entry>/<attribute>; the real one is
//                PosixTsmFs over a configurable root, tests use FakeTsmFs (fake_tsm_fs.h), an
//                in-memory emulation of the kernel's semantics (a plain directory cannot
//                reproduce the generation counter, the lazy outblob or the 64-byte inblob check).
//   TsmReporter  one request = one fresh entry: mkdir <unique name>, read `provider`, read
//                `generation`, write `inblob`, read `outblob` (and `auxblob`), read `generation`
//                again, rmdir. Because every request has its own entry, concurrent requests never
//                see each other's reports; a generation that moved by more than our one write
//                means someone else wrote into our entry, and the request is retried on a new
//                entry (bounded).
//
// Every blocking file operation runs on a worker thread, so a caller whose deadline passes gets
// DEADLINE_EXCEEDED even when the kernel (or the host's quote service behind it) never answers;
// the abandoned worker removes its entry when the call eventually returns.
#ifndef CDH_ATTESTATION_TSM_REPORT_H_
#define CDH_ATTESTATION_TSM_REPORT_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/call_context.h"

namespace cdh::attestation {

inline constexpr char kDefaultTsmReportRoot[] = "/sys/kernel/config/tsm/report";
// TSM_REPORT_INBLOB_MAX: the kernel rejects longer inblob writes (and the TDX and SEV providers
// require exactly this many bytes).
inline constexpr size_t kTsmInblobSize = 64;
// Largest outblob/auxblob we accept, in bytes. A TDX quote is ~5 KiB, an SNP report 1184 bytes,
// an SNP certificate table a few KiB; anything announced larger is rejected before allocating.
inline constexpr size_t kTsmMaxBlobSize = 1 << 20;

// File-level access to a configfs-tsm report root. Entry and attribute names are single path
// components. Implementations are thread-safe. Every error message names the path.
//   NOT_FOUND            the root (or entry/attribute) does not exist
//   UNAVAILABLE          ENXIO (no provider registered), EIO, EBUSY and other I/O errors
//   INVALID_ARGUMENT     EINVAL from the kernel (e.g. outblob read before any inblob write)
//   PERMISSION_DENIED    EACCES/EPERM (e.g. reading the write-only inblob)
//   RESOURCE_EXHAUSTED   the attribute holds more than `max_bytes`
class TsmFs {
 public:
  virtual ~TsmFs() = default;
  virtual absl::Status MakeEntry(std::string_view entry) = 0;
  virtual absl::Status RemoveEntry(std::string_view entry) = 0;
  // Reads a whole attribute of at most `max_bytes` bytes. The size configfs announces (4096 for
  // text attributes, 0 for binary ones) is ignored; the limit applies to the bytes read
  // (ReadPseudoFile, common/file_util.h).
  virtual absl::StatusOr<std::string> ReadAttribute(std::string_view entry, std::string_view attribute,
                                                    size_t max_bytes) = 0;
  // Writes `bytes` in one write(2).
  virtual absl::Status WriteAttribute(std::string_view entry, std::string_view attribute, std::string_view bytes) = 0;
  // "<root>/<entry>/<attribute>", for messages.
  virtual std::string PathOf(std::string_view entry, std::string_view attribute) const = 0;
};

// TsmFs over a real directory (configfs in production). Thread-safe; neither copyable nor movable.
class PosixTsmFs : public TsmFs {
 public:
  explicit PosixTsmFs(std::string root) : root_(std::move(root)) {}
  PosixTsmFs(const PosixTsmFs&) = delete;
  PosixTsmFs& operator=(const PosixTsmFs&) = delete;

  absl::Status MakeEntry(std::string_view entry) override;
  absl::Status RemoveEntry(std::string_view entry) override;
  absl::StatusOr<std::string> ReadAttribute(std::string_view entry, std::string_view attribute,
                                            size_t max_bytes) override;
  absl::Status WriteAttribute(std::string_view entry, std::string_view attribute, std::string_view bytes) override;
  std::string PathOf(std::string_view entry, std::string_view attribute) const override;
  const std::string& root() const { return root_; }

 private:
  std::string root_;
};

struct TsmReport {
  std::string outblob;                 // the quote (TDX) or attestation report (SNP)
  std::optional<std::string> auxblob;  // SNP certificate table, when asked for and non-empty
};

// Runs the §3.2 procedure over a TsmFs. Thread-safe (requests share nothing but the TsmFs);
// neither copyable nor movable.
class TsmReporter {
 public:
  // Attempts per request when the generation shows a concurrent writer.
  static constexpr int kMaxAttempts = 3;

  // Used when the caller's context has no deadline: a quote service that never answers must not
  // hang the caller forever.
  static constexpr absl::Duration kDefaultTimeout = absl::Seconds(60);

  explicit TsmReporter(std::shared_ptr<TsmFs> fs, absl::Duration default_timeout = kDefaultTimeout)
      : fs_(std::move(fs)), default_timeout_(default_timeout) {}
  TsmReporter(const TsmReporter&) = delete;
  TsmReporter& operator=(const TsmReporter&) = delete;

  // `provider` is the expected provider name without newline ("tdx_guest", "sev_guest");
  // `inblob` must be exactly kTsmInblobSize bytes. Codes:
  //   INVALID_ARGUMENT     inblob of the wrong size
  //   FAILED_PRECONDITION  the entry's provider is a different one
  //   UNAVAILABLE          I/O errors (message names the path), an empty outblob (no quote
  //                        service on the host, guest-components#823), or the generation kept
  //                        moving for kMaxAttempts attempts
  //   RESOURCE_EXHAUSTED   a blob larger than kTsmMaxBlobSize
  //   DEADLINE_EXCEEDED    `ctx` (or, without a deadline, the default timeout) expired first
  absl::StatusOr<TsmReport> GetReport(std::string_view provider, std::string_view inblob, bool want_auxblob,
                                      const CallContext& ctx);

  // Creates and removes an entry to read its provider (detection, attesters.md §1.2).
  // NOT_FOUND when the root is missing; UNAVAILABLE when no provider is registered.
  absl::StatusOr<std::string> ProbeProvider(const CallContext& ctx);

  TsmFs& fs() { return *fs_; }

 private:
  CallContext Bounded(const CallContext& ctx) const {
    return ctx.deadline == absl::InfiniteFuture() ? CallContext::WithTimeout(default_timeout_) : ctx;
  }
  std::shared_ptr<TsmFs> fs_;
  absl::Duration default_timeout_;
};

// Parses a configfs decimal attribute such as `generation` ("3\n"). INVALID_ARGUMENT otherwise.
absl::StatusOr<uint64_t> ParseTsmDecimal(std::string_view text);

}  // namespace cdh::attestation

#endif  // CDH_ATTESTATION_TSM_REPORT_H_
