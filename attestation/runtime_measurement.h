// Runtime measurement with an event log (attesters.md §6; Trustee
// kbs/docs/confidential-containers-eventlog.md): CDH measures events such as image pulls by
// extending a TEE register (TDX RTMR via sysfs, TPM/vTPM sha256 PCR) and appending a TCG2
// crypto-agile entry to an append-only log, so a verifier can replay the log to the register.
//
// Entry (little-endian): u32 MR index (Attester::MrIndex of the PCR actually extended; upstream
// writes its configured init_pcr instead, which breaks replay for other indices), u32 type 6
// (EV_EVENT_TAG), u32 digest count 1, u16 algorithm (0x0b sha256, 0x0c sha384, 0x0d sha512),
// digest, u32 event size, event = u32 0x4141454c ("AAEL") ‖ u32 text length ‖ text, where text =
// "<domain> <operation> <content>" and digest = H(event).
//
// Crash safety: before extending, a write-ahead record {log offset, register
// before, register expected after, entry} is written atomically next to the log. Opening the
// measurer replays a leftover record: register == expected → the extend happened, the log is cut
// at the offset and the entry appended once; register == before → nothing happened, the log is
// cut at the offset; anything else → FAILED_PRECONDITION (someone else moved the register).
// So a crash at any point never double-extends and the log always replays to the register.
// An advisory lock (flock) on the log serialises processes; a mutex serialises threads.
//
// Thread-safe; neither copyable nor movable.
#ifndef CDH_ATTESTATION_RUNTIME_MEASUREMENT_H_
#define CDH_ATTESTATION_RUNTIME_MEASUREMENT_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "attestation/attester.h"
#include "crypto/hash.h"

namespace cdh::attestation {

inline constexpr char kDefaultRuntimeLogPath[] = "/run/attestation-agent/eventlog";

class LockedLog;

class RuntimeMeasurer {
 public:
  struct Options {
    std::string log_path = kDefaultRuntimeLogPath;
    std::string wal_path;       // "" = log_path + ".wal"
    uint64_t default_pcr = 17;  // upstream init_pcr; TPMs cannot extend 17-22 at locality 0: use 23
  };
  // UNIMPLEMENTED when `attester` has no runtime measurement; FAILED_PRECONDITION when a leftover
  // write-ahead record cannot be reconciled; UNAVAILABLE on I/O errors. `attester` must outlive.
  static absl::StatusOr<std::unique_ptr<RuntimeMeasurer>> Open(Attester& attester, Options options) {
    return OpenForTest(attester, std::move(options), nullptr);
  }

  // Test seam: crash injection. `crash_hook` is called at each step; returning true stops the
  // operation there as a crash would (files left as they are). Same codes as Open.
  enum class Step { kWalWritten, kExtended, kLogAppended };
  using CrashHook = std::function<bool(Step)>;
  static absl::StatusOr<std::unique_ptr<RuntimeMeasurer>> OpenForTest(Attester& attester, Options options,
                                                                      CrashHook crash_hook);
  RuntimeMeasurer(const RuntimeMeasurer&) = delete;
  RuntimeMeasurer& operator=(const RuntimeMeasurer&) = delete;

  // Measures one event into `pcr_index` (default: options.default_pcr). INVALID_ARGUMENT when
  // domain or operation is empty or contains a space or newline, or content contains a newline,
  // or the index is rejected by the attester; the attester's codes otherwise.
  absl::Status Measure(std::string_view domain, std::string_view operation, std::string_view content,
                       std::optional<uint64_t> pcr_index = std::nullopt);

 private:
  RuntimeMeasurer(Attester& attester, Options options, crypto::HashAlgorithm alg, CrashHook hook)
      : attester_(attester), options_(std::move(options)), alg_(alg), hook_(std::move(hook)) {}
  absl::Status Recover(LockedLog& log);  // with the log locked

  Attester& attester_;
  Options options_;
  crypto::HashAlgorithm alg_;
  CrashHook hook_;
  absl::Mutex mu_;  // one measurement (log append, extend, log commit) at a time in this process
};

// One log entry's bytes for an event text and target MR.
std::string AaelEntry(crypto::HashAlgorithm alg, uint32_t mr_index, std::string_view text);
// The digest extended for an event text: H(u32 "AAEL" ‖ u32 length ‖ text).
std::string AaelEventDigest(crypto::HashAlgorithm alg, std::string_view text);

// Replays a log of AaelEntry records: MR index → register value, starting from all-zero
// registers of the digest size. INVALID_ARGUMENT for a malformed log.
absl::StatusOr<std::map<uint32_t, std::string>> ReplayAael(crypto::HashAlgorithm alg, std::string_view log);

}  // namespace cdh::attestation

#endif  // CDH_ATTESTATION_RUNTIME_MEASUREMENT_H_
