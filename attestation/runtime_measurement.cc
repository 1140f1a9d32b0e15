#include "attestation/runtime_measurement.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "common/base64.h"
#include "common/byte_reader.h"
#include "common/byte_writer.h"
#include "common/file_util.h"
#include "common/json.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace cdh::attestation {
namespace {

constexpr uint32_t kEvEventTag = 6;
constexpr uint32_t kAaelTag = 0x4141454c;
constexpr size_t kMaxLog = 64 << 20;

uint16_t AlgId(crypto::HashAlgorithm alg) {
  switch (alg) {
    case crypto::HashAlgorithm::kSha256:
      return 0x0b;
    case crypto::HashAlgorithm::kSha384:
      return 0x0c;
    case crypto::HashAlgorithm::kSha512:
      return 0x0d;
  }
  return 0;
}

std::string EventData(std::string_view text) {
  std::string e;
  AppendU32Le(e, kAaelTag);
  AppendU32Le(e, static_cast<uint32_t>(text.size()));
  e.append(text);
  return e;
}

}  // namespace

// An open, flock'ed log file descriptor.
class LockedLog {
 public:
  static absl::StatusOr<LockedLog> Open(const std::string& path) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return absl::UnavailableError(StrCat("open ", path, ": ", ::strerror(errno)));
    if (::flock(fd, LOCK_EX) != 0) {
      int err = errno;
      ::close(fd);
      return absl::UnavailableError(StrCat("flock ", path, ": ", ::strerror(err)));
    }
    return LockedLog(fd, path);
  }
  LockedLog(LockedLog&& o) noexcept : fd_(o.fd_), path_(std::move(o.path_)) { o.fd_ = -1; }
  ~LockedLog() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock
  }
  absl::StatusOr<uint64_t> Size() const {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return absl::UnavailableError(StrCat("stat ", path_, ": ", ::strerror(errno)));
    return static_cast<uint64_t>(st.st_size);
  }
  absl::Status Truncate(uint64_t size) {
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
      return absl::UnavailableError(StrCat("truncate ", path_, ": ", ::strerror(errno)));
    }
    return absl::OkStatus();
  }
  absl::Status AppendAt(uint64_t offset, std::string_view bytes) {
    size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = ::pwrite(fd_, bytes.data() + done, bytes.size() - done, static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return absl::UnavailableError(StrCat("write ", path_, ": ", ::strerror(errno)));
      }
      done += static_cast<size_t>(n);
    }
    if (::fdatasync(fd_) != 0) return absl::UnavailableError(StrCat("fsync ", path_, ": ", ::strerror(errno)));
    return absl::OkStatus();
  }

 private:
  LockedLog(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_;
  std::string path_;
};

namespace {

absl::Status CheckField(std::string_view name, std::string_view v, bool allow_space) {
  if (v.find('\n') != std::string_view::npos ||
      (!allow_space && (v.empty() || v.find(' ') != std::string_view::npos))) {
    return absl::InvalidArgumentError(
        StrCat("runtime measurement: `", name, "` ",
               allow_space ? "must not contain a newline" : "must be non-empty without spaces or newlines"));
  }
  return absl::OkStatus();
}

}  // namespace

std::string AaelEventDigest(crypto::HashAlgorithm alg, std::string_view text) {
  return crypto::Hash(alg, EventData(text));
}

std::string AaelEntry(crypto::HashAlgorithm alg, uint32_t mr_index, std::string_view text) {
  std::string e;
  AppendU32Le(e, mr_index);
  AppendU32Le(e, kEvEventTag);
  AppendU32Le(e, 1);
  AppendU16Le(e, AlgId(alg));
  e += AaelEventDigest(alg, text);
  std::string data = EventData(text);
  AppendU32Le(e, static_cast<uint32_t>(data.size()));
  e += data;
  return e;
}

absl::StatusOr<std::map<uint32_t, std::string>> ReplayAael(crypto::HashAlgorithm alg, std::string_view log) {
  std::map<uint32_t, std::string> regs;
  size_t n = crypto::HashSize(alg);
  ByteReader r(log, "event log");
  while (!r.AtEnd()) {
    size_t at = r.offset();
    auto bad = [&](std::string_view why) { return absl::InvalidArgumentError(StrCat("event log at ", at, ": ", why)); };
    CDH_ASSIGN_OR_RETURN(uint32_t mr, r.U32Le());
    CDH_ASSIGN_OR_RETURN(uint32_t type, r.U32Le());
    CDH_ASSIGN_OR_RETURN(uint32_t count, r.U32Le());
    if (type != kEvEventTag || count != 1) return bad("not an AAEL entry");
    CDH_ASSIGN_OR_RETURN(uint16_t a, r.U16Le());
    if (a != AlgId(alg)) return bad("unexpected digest algorithm");
    CDH_ASSIGN_OR_RETURN(std::string_view digest, r.Bytes(n));
    CDH_ASSIGN_OR_RETURN(uint32_t size, r.U32Le());
    CDH_ASSIGN_OR_RETURN(std::string_view data, r.Bytes(size));
    if (crypto::Hash(alg, data) != digest) return bad("digest does not match the event");
    std::string& reg = regs.try_emplace(mr, std::string(n, '\0')).first->second;
    reg = crypto::Hash(alg, reg + std::string(digest));
  }
  return regs;
}

absl::StatusOr<std::unique_ptr<RuntimeMeasurer>> RuntimeMeasurer::OpenForTest(Attester& attester, Options options,
                                                                              CrashHook crash_hook) {
  std::string_view hash = attester.RuntimeMeasurementHash();
  std::optional<int> size = attester.RuntimeMeasurementDigestSize();
  if (!size.has_value() || hash.empty()) {
    return absl::UnimplementedError(StrCat(attester.tee(), ": runtime measurement is not supported"));
  }
  CDH_ASSIGN_OR_RETURN(crypto::HashAlgorithm alg, crypto::ParseHashAlgorithm(hash));
  if (crypto::HashSize(alg) != static_cast<size_t>(*size)) {
    return absl::InternalError("runtime measurement digest size does not match its hash");
  }
  if (options.wal_path.empty()) options.wal_path = options.log_path + ".wal";
  std::unique_ptr<RuntimeMeasurer> m(new RuntimeMeasurer(attester, std::move(options), alg, std::move(crash_hook)));
  absl::MutexLock lock(&m->mu_);
  CDH_ASSIGN_OR_RETURN(LockedLog log, LockedLog::Open(m->options_.log_path));
  CDH_RETURN_IF_ERROR(m->Recover(log));
  return m;
}

absl::Status RuntimeMeasurer::Recover(LockedLog& log) {
  absl::StatusOr<std::string> text = ReadFileBounded(options_.wal_path, 1 << 20);
  if (text.status().code() == absl::StatusCode::kNotFound) return absl::OkStatus();
  if (!text.ok()) return text.status();
  absl::StatusOr<nlohmann::json> wal = ParseJson(*text, "runtime measurement write-ahead record");
  auto corrupt = [&] {
    return absl::FailedPreconditionError(StrCat(options_.wal_path, " is corrupt; remove it after checking ",
                                                options_.log_path, " against the registers"));
  };
  if (!wal.ok() || !wal->is_object()) return corrupt();
  uint64_t offset = wal->value("offset", uint64_t{0});
  uint64_t pcr = wal->value("pcr", uint64_t{0});
  auto before = Base64StdDecode(wal->value("before", ""));
  auto after = Base64StdDecode(wal->value("after", ""));
  auto entry = Base64StdDecode(wal->value("entry", ""));
  if (!before.ok() || !after.ok() || !entry.ok()) return corrupt();
  CDH_ASSIGN_OR_RETURN(std::string now, attester_.ReadRuntimeMeasurement(pcr));
  CDH_ASSIGN_OR_RETURN(uint64_t size, log.Size());
  if (size < offset) return corrupt();
  if (now == *after) {
    // Extended: make sure the entry is in the log exactly once.
    CDH_RETURN_IF_ERROR(log.Truncate(offset));
    CDH_RETURN_IF_ERROR(log.AppendAt(offset, *entry));
  } else if (now == *before) {
    CDH_RETURN_IF_ERROR(log.Truncate(offset));  // not extended: drop a partial entry, if any
  } else {
    return absl::FailedPreconditionError(StrCat("runtime measurement register for PCR ", pcr,
                                                " moved outside this log (", options_.wal_path, " left in place)"));
  }
  if (::unlink(options_.wal_path.c_str()) != 0 && errno != ENOENT) {
    return absl::UnavailableError(StrCat("unlink ", options_.wal_path, ": ", ::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status RuntimeMeasurer::Measure(std::string_view domain, std::string_view operation, std::string_view content,
                                      std::optional<uint64_t> pcr_index) {
  CDH_RETURN_IF_ERROR(CheckField("domain", domain, false));
  CDH_RETURN_IF_ERROR(CheckField("operation", operation, false));
  CDH_RETURN_IF_ERROR(CheckField("content", content, true));
  uint64_t pcr = pcr_index.value_or(options_.default_pcr);
  absl::MutexLock lock(&mu_);
  CDH_ASSIGN_OR_RETURN(LockedLog log, LockedLog::Open(options_.log_path));
  CDH_RETURN_IF_ERROR(Recover(log));
  std::string text = StrCat(domain, " ", operation, " ", content);
  std::string digest = AaelEventDigest(alg_, text);
  CDH_ASSIGN_OR_RETURN(std::string before, attester_.ReadRuntimeMeasurement(pcr));
  std::string after = crypto::Hash(alg_, before + digest);
  std::string entry = AaelEntry(alg_, attester_.MrIndex(pcr), text);
  CDH_ASSIGN_OR_RETURN(uint64_t offset, log.Size());
  nlohmann::json wal = {{"offset", offset},
                        {"pcr", pcr},
                        {"before", Base64StdEncode(before)},
                        {"after", Base64StdEncode(after)},
                        {"entry", Base64StdEncode(entry)}};
  CDH_RETURN_IF_ERROR(WriteFileAtomic(options_.wal_path, wal.dump(), 0600));
  if (hook_ && hook_(Step::kWalWritten)) return absl::AbortedError("crash injected after the write-ahead record");
  absl::Status extended = attester_.ExtendRuntimeMeasurement(pcr, digest);
  if (!extended.ok()) {
    ::unlink(options_.wal_path.c_str());  // the register did not move (the next Recover would agree)
    return extended;
  }
  if (hook_ && hook_(Step::kExtended)) return absl::AbortedError("crash injected after the extend");
  CDH_RETURN_IF_ERROR(log.AppendAt(offset, entry));
  if (hook_ && hook_(Step::kLogAppended)) return absl::AbortedError("crash injected after the log append");
  if (::unlink(options_.wal_path.c_str()) != 0) {
    return absl::UnavailableError(StrCat("unlink ", options_.wal_path, ": ", ::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace cdh::attestation
