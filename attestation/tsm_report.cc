#include "attestation/tsm_report.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/file_util.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace cdh::attestation {
namespace {

absl::Status ErrnoStatus(int err, std::string_view op, const std::string& path) {
  std::string msg = StrCat(op, " ", path, ": ", ::strerror(err));
  switch (err) {
    case ENOENT:
      return absl::NotFoundError(msg);
    case EINVAL:
      return absl::InvalidArgumentError(msg);
    case EFBIG:
      return absl::ResourceExhaustedError(msg);
    default:
      return absl::UnavailableError(msg);
  }
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

std::string UniqueEntryName() {
  static std::atomic<uint64_t> counter{0};
  uint64_t n = counter.fetch_add(1);
  uint64_t t = static_cast<uint64_t>(absl::ToUnixNanos(absl::Now()));
  return StrCat("cdh-", static_cast<long>(::getpid()), "-", n, "-", t % 1000000007ULL);
}

// Runs `fn` on a worker thread and waits until it finishes or `ctx` expires. On expiry the worker
// is abandoned (it owns everything it touches through `state`) and DEADLINE_EXCEEDED returned.
// Without a deadline `fn` runs inline.
template <typename T>
absl::StatusOr<T> RunWithDeadline(const CallContext& ctx, std::string_view what,
                                  std::function<absl::StatusOr<T>()> fn) {
  if (ctx.deadline == absl::InfiniteFuture()) return fn();
  if (ctx.Expired()) return absl::DeadlineExceededError(StrCat(what, ": deadline exceeded before the request"));
  struct State {
    absl::Mutex mu;
    bool done ABSL_GUARDED_BY(mu) = false;
    absl::StatusOr<T> result ABSL_GUARDED_BY(mu) = absl::UnknownError("not run");
  };
  auto state = std::make_shared<State>();
  std::thread([state, fn = std::move(fn)]() mutable {
    absl::StatusOr<T> r = fn();
    absl::MutexLock lock(&state->mu);
    state->result = std::move(r);
    state->done = true;
  }).detach();
  absl::MutexLock lock(&state->mu);
  if (!state->mu.AwaitWithDeadline(absl::Condition(&state->done), ctx.deadline)) {
    return absl::DeadlineExceededError(
        StrCat(what, ": no answer before the deadline (the quote service may be hung; the request is abandoned)"));
  }
  return std::move(state->result);
}

}  // namespace

absl::StatusOr<uint64_t> ParseTsmDecimal(std::string_view text) {
  if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  if (text.empty() || text.size() > 19) return absl::InvalidArgumentError("not a decimal number");
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return absl::InvalidArgumentError("not a decimal number");
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

std::string PosixTsmFs::PathOf(std::string_view entry, std::string_view attribute) const {
  if (attribute.empty()) return StrCat(root_, "/", entry);
  return StrCat(root_, "/", entry, "/", attribute);
}

absl::Status PosixTsmFs::MakeEntry(std::string_view entry) {
  std::string path = PathOf(entry, "");
  if (::mkdir(path.c_str(), 0700) != 0) {
    int err = errno;
    if (err == ENXIO) return absl::UnavailableError(StrCat("mkdir ", path, ": no TSM provider is registered (ENXIO)"));
    return ErrnoStatus(err, "mkdir", path);
  }
  return absl::OkStatus();
}

absl::Status PosixTsmFs::RemoveEntry(std::string_view entry) {
  std::string path = PathOf(entry, "");
  if (::rmdir(path.c_str()) != 0) return ErrnoStatus(errno, "rmdir", path);
  return absl::OkStatus();
}

absl::StatusOr<std::string> PosixTsmFs::ReadAttribute(std::string_view entry, std::string_view attribute,
                                                      size_t max_bytes) {
  // configfs announces 4096 bytes for text attributes and 0 for binary ones: never trust st_size.
  return ReadPseudoFile(PathOf(entry, attribute), max_bytes);
}

absl::Status PosixTsmFs::WriteAttribute(std::string_view entry, std::string_view attribute, std::string_view bytes) {
  std::string path = PathOf(entry, attribute);
  Fd f;
  f.fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (f.fd < 0) return ErrnoStatus(errno, "open", path);
  ssize_t n;
  do {
    n = ::write(f.fd, bytes.data(), bytes.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) return ErrnoStatus(errno, "write", path);
  if (static_cast<size_t>(n) != bytes.size()) {
    return absl::UnavailableError(
        StrCat("write ", path, ": short write (", static_cast<long>(n), " of ", bytes.size(), ")"));
  }
  return absl::OkStatus();
}

namespace {

// Outcome of one attempt on one entry; `race` asks the caller to retry on a new entry.
struct Attempt {
  TsmReport report;
  bool race = false;
  uint64_t generation = 0;
};

absl::StatusOr<Attempt> AttemptOnce(TsmFs& fs, const std::string& entry, std::string_view provider,
                                    std::string_view inblob, bool want_auxblob) {
  CDH_ASSIGN_OR_RETURN(std::string got_provider, fs.ReadAttribute(entry, "provider", 256));
  std::string_view p = got_provider;
  if (!p.empty() && p.back() == '\n') p.remove_suffix(1);
  if (p != provider) {
    return absl::FailedPreconditionError(
        StrCat(fs.PathOf(entry, "provider"), " is `", p, "`, expected `", provider, "`"));
  }
  CDH_ASSIGN_OR_RETURN(std::string gen_text, fs.ReadAttribute(entry, "generation", 64));
  auto before = ParseTsmDecimal(gen_text);
  if (!before.ok()) return absl::UnavailableError(StrCat(fs.PathOf(entry, "generation"), ": not a decimal number"));
  CDH_RETURN_IF_ERROR(fs.WriteAttribute(entry, "inblob", inblob));
  Attempt a;
  CDH_ASSIGN_OR_RETURN(a.report.outblob, fs.ReadAttribute(entry, "outblob", kTsmMaxBlobSize));
  if (want_auxblob) {
    auto aux = fs.ReadAttribute(entry, "auxblob", kTsmMaxBlobSize);
    if (aux.ok()) {
      if (!aux->empty()) a.report.auxblob = std::move(aux).value();
    } else if (aux.status().code() != absl::StatusCode::kNotFound) {
      return aux.status();
    }
  }
  CDH_ASSIGN_OR_RETURN(gen_text, fs.ReadAttribute(entry, "generation", 64));
  auto after = ParseTsmDecimal(gen_text);
  if (!after.ok()) return absl::UnavailableError(StrCat(fs.PathOf(entry, "generation"), ": not a decimal number"));
  a.generation = *after;
  // Exactly our one inblob write may have happened in between.
  a.race = *after != *before + 1;
  return a;
}

}  // namespace

absl::StatusOr<TsmReport> TsmReporter::GetReport(std::string_view provider, std::string_view inblob, bool want_auxblob,
                                                 const CallContext& ctx) {
  if (inblob.size() != kTsmInblobSize) {
    return absl::InvalidArgumentError(
        StrCat("configfs-tsm inblob must be exactly ", kTsmInblobSize, " bytes, got ", inblob.size()));
  }
  std::shared_ptr<TsmFs> fs = fs_;
  std::string prov(provider);
  std::string in(inblob);
  std::function<absl::StatusOr<TsmReport>()> run = [fs, prov, in, want_auxblob]() -> absl::StatusOr<TsmReport> {
    for (int attempt = 1; attempt <= kMaxAttempts; ++attempt) {
      std::string entry = UniqueEntryName();
      CDH_RETURN_IF_ERROR(fs->MakeEntry(entry));
      absl::StatusOr<Attempt> a = AttemptOnce(*fs, entry, prov, in, want_auxblob);
      absl::Status rm = fs->RemoveEntry(entry);
      if (!a.ok()) return a.status();
      if (!rm.ok()) return rm;
      if (a->race) continue;
      if (a->report.outblob.empty()) {
        return absl::UnavailableError(
            StrCat(fs->PathOf(entry, "outblob"), " was empty: the host's quote service did not produce a report"));
      }
      return std::move(a->report);
    }
    return absl::UnavailableError(StrCat("configfs-tsm: the generation of every one of ", kMaxAttempts,
                                         " fresh report entries moved during the request (concurrent writer)"));
  };
  return RunWithDeadline<TsmReport>(Bounded(ctx), "configfs-tsm report", std::move(run));
}

absl::StatusOr<std::string> TsmReporter::ProbeProvider(const CallContext& ctx) {
  std::shared_ptr<TsmFs> fs = fs_;
  std::function<absl::StatusOr<std::string>()> run = [fs]() -> absl::StatusOr<std::string> {
    std::string entry = UniqueEntryName();
    CDH_RETURN_IF_ERROR(fs->MakeEntry(entry));
    absl::StatusOr<std::string> p = fs->ReadAttribute(entry, "provider", 256);
    absl::Status rm = fs->RemoveEntry(entry);
    if (!p.ok()) return p.status();
    if (!rm.ok()) return rm;
    std::string s = std::move(p).value();
    if (!s.empty() && s.back() == '\n') s.pop_back();
    return s;
  };
  return RunWithDeadline<std::string>(Bounded(ctx), "configfs-tsm provider probe", std::move(run));
}

}  // namespace cdh::attestation
