#include "attestation/fake_tsm_fs.h"

#include "common/strings.h"

namespace cdh::attestation {

namespace {
constexpr char kRoot[] = "/fake/sys/kernel/config/tsm/report";
}

FakeTsmFs::FakeTsmFs(std::string provider, BlobFn outblob, BlobFn auxblob)
    : provider_(std::move(provider)), outblob_fn_(std::move(outblob)), auxblob_fn_(std::move(auxblob)) {}

FakeTsmFs::~FakeTsmFs() = default;

std::string FakeTsmFs::PathOf(std::string_view entry, std::string_view attribute) const {
  if (attribute.empty()) return StrCat(kRoot, "/", entry);
  return StrCat(kRoot, "/", entry, "/", attribute);
}

absl::Status FakeTsmFs::MakeEntry(std::string_view entry) {
  absl::MutexLock lock(&mu_);
  if (root_missing_) return absl::NotFoundError(StrCat("mkdir ", PathOf(entry, ""), ": No such file or directory"));
  if (no_provider_) {
    return absl::UnavailableError(StrCat("mkdir ", PathOf(entry, ""), ": no TSM provider is registered (ENXIO)"));
  }
  if (entries_.count(entry) != 0) return absl::UnavailableError(StrCat("mkdir ", PathOf(entry, ""), ": File exists"));
  Entry e;
  if (foreign_writes_ > 0) {
    --foreign_writes_;
    e.foreign_write_pending = true;
  }
  entries_.emplace(std::string(entry), std::move(e));
  ++created_;
  return absl::OkStatus();
}

absl::Status FakeTsmFs::RemoveEntry(std::string_view entry) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(entry);
  if (it == entries_.end())
    return absl::NotFoundError(StrCat("rmdir ", PathOf(entry, ""), ": No such file or directory"));
  entries_.erase(it);
  return absl::OkStatus();
}

absl::Status FakeTsmFs::WriteLocked(Entry& e, std::string_view entry, std::string_view bytes) {
  bool exact64 = provider_ == "tdx_guest" || provider_ == "sev_guest";
  if (bytes.size() > kTsmInblobSize || (exact64 && bytes.size() != kTsmInblobSize)) {
    return absl::InvalidArgumentError(StrCat("write ", PathOf(entry, "inblob"), ": Invalid argument"));
  }
  e.inblob = std::string(bytes);
  e.written = true;
  e.outblob.reset();
  ++e.generation;
  return absl::OkStatus();
}

absl::Status FakeTsmFs::WriteAttribute(std::string_view entry, std::string_view attribute, std::string_view bytes) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(entry);
  if (it == entries_.end())
    return absl::NotFoundError(StrCat("open ", PathOf(entry, attribute), ": No such file or directory"));
  if (attribute != "inblob") {
    return absl::UnavailableError(StrCat("open ", PathOf(entry, attribute), ": Permission denied"));
  }
  Entry& e = it->second;
  absl::Status s = WriteLocked(e, entry, bytes);
  if (!s.ok()) return s;
  if (e.foreign_write_pending) {
    // Another process writes its own report data into the same entry right after ours.
    e.foreign_write_pending = false;
    return WriteLocked(e, entry, std::string(kTsmInblobSize, '\xEE'));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> FakeTsmFs::ReadAttribute(std::string_view entry, std::string_view attribute,
                                                     size_t max_bytes) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(entry);
  std::string path = PathOf(entry, attribute);
  if (it == entries_.end()) return absl::NotFoundError(StrCat("open ", path, ": No such file or directory"));
  if (attribute == "provider") return provider_ + "\n";
  if (attribute == "generation") return StrCat(it->second.generation, "\n");
  if (attribute == "inblob") return absl::UnavailableError(StrCat("open ", path, ": Permission denied"));
  if (attribute == "auxblob" && provider_ != "sev_guest") {
    return absl::NotFoundError(StrCat("open ", path, ": No such file or directory"));
  }
  if (attribute != "outblob" && attribute != "auxblob") {
    return absl::NotFoundError(StrCat("open ", path, ": No such file or directory"));
  }
  if (attribute == "outblob") {
    if (outblob_eio_) return absl::UnavailableError(StrCat("read ", path, ": Input/output error"));
    if (hang_) {
      auto released = [this]() {
        mu_.AssertReaderHeld();  // evaluated by absl::Mutex with mu_ held
        return !hang_;
      };
      mu_.Await(absl::Condition(&released));
      it = entries_.find(entry);
      if (it == entries_.end()) return absl::NotFoundError(StrCat("read ", path, ": No such file or directory"));
    }
  }
  Entry& e = it->second;
  if (!e.written) return absl::InvalidArgumentError(StrCat("read ", path, ": Invalid argument"));
  std::string blob;
  if (attribute == "outblob") {
    if (!e.outblob.has_value()) {
      absl::StatusOr<std::string> b = outblob_fn_(e.inblob);
      if (!b.ok()) return b.status();
      e.outblob = std::move(b).value();
    }
    blob = *e.outblob;
  } else {
    if (!auxblob_fn_) return std::string();
    absl::StatusOr<std::string> b = auxblob_fn_(e.inblob);
    if (!b.ok()) return b.status();
    blob = std::move(b).value();
  }
  if (blob.size() > max_bytes) {
    return absl::ResourceExhaustedError(StrCat(path, " holds more than ", max_bytes, " bytes"));
  }
  return blob;
}

void FakeTsmFs::SetRootMissing(bool v) {
  absl::MutexLock l(&mu_);
  root_missing_ = v;
}
void FakeTsmFs::SetNoProvider(bool v) {
  absl::MutexLock l(&mu_);
  no_provider_ = v;
}
void FakeTsmFs::SetOutblobEio(bool v) {
  absl::MutexLock l(&mu_);
  outblob_eio_ = v;
}
void FakeTsmFs::SetOutblobHangs(bool v) {
  absl::MutexLock l(&mu_);
  hang_ = v;
}
void FakeTsmFs::ReleaseHangs() { SetOutblobHangs(false); }
void FakeTsmFs::SetForeignWrites(int n) {
  absl::MutexLock l(&mu_);
  foreign_writes_ = n;
}
bool FakeTsmFs::HasEntry(std::string_view entry) {
  absl::MutexLock lock(&mu_);
  return entries_.find(entry) != entries_.end();
}

size_t FakeTsmFs::EntryCount() {
  absl::MutexLock l(&mu_);
  return entries_.size();
}
int FakeTsmFs::entries_created() {
  absl::MutexLock l(&mu_);
  return created_;
}

bool FakeTsmFs::WaitForNoEntries(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto empty = [this]() {
    mu_.AssertReaderHeld();  // evaluated by absl::Mutex with mu_ held
    return entries_.empty();
  };
  return mu_.AwaitWithTimeout(absl::Condition(&empty), timeout);
}

}  // namespace cdh::attestation
