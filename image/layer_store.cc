#include "image/layer_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/time/clock.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "crypto/hash.h"

namespace cdh::image {
namespace {

namespace fs = std::filesystem;

std::string EntryName(const Digest& d) { return StrCat(d.algorithm(), "-", d.hex()); }

absl::Status WriteFileAtomically(const std::string& path, const std::string& content) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << content;
    out.flush();
    if (!out) return absl::InternalError(StrCat("cannot write ", tmp));
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) return absl::InternalError(StrCat("cannot rename ", tmp));
  return absl::OkStatus();
}

std::string ReadSmallFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

absl::StatusOr<std::string> DescribeTree(const std::string& dir) {
  std::vector<std::string> lines;
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, fs::directory_options::none, ec);
  if (ec) return absl::InternalError(StrCat("cannot read layer ", dir, ": ", ec.message()));
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) return absl::InternalError(StrCat("cannot read layer ", dir, ": ", ec.message()));
    const std::string path = it->path().string();
    struct stat st;
    if (lstat(path.c_str(), &st) != 0) return absl::InternalError(StrCat("cannot stat ", path));
    std::string line = StrCat(path.substr(dir.size()), " ", static_cast<uint64_t>(st.st_mode), " ",
                              static_cast<uint64_t>(st.st_uid), " ", static_cast<uint64_t>(st.st_gid));
    if (S_ISREG(st.st_mode)) StrAppend(&line, " ", static_cast<uint64_t>(st.st_size));
    if (S_ISCHR(st.st_mode)) StrAppend(&line, " ", static_cast<uint64_t>(st.st_rdev));
    if (S_ISLNK(st.st_mode)) {
      std::error_code lec;
      StrAppend(&line, " -> ", fs::read_symlink(it->path(), lec).string());
    }
    lines.push_back(std::move(line));
  }
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (const auto& l : lines) StrAppend(&out, l, "\n");
  return StrCat(lines.size(), " entries sha256:", crypto::HexEncode(crypto::Sha256(out)));
}

absl::StatusOr<std::unique_ptr<LayerStore>> LayerStore::Open(const std::string& work_dir) {
  std::error_code ec;
  for (const char* sub : {"layers", "staging"}) {
    fs::create_directories(fs::path(work_dir) / sub, ec);
    if (ec) return absl::InternalError(StrCat("cannot create ", work_dir, "/", sub, ": ", ec.message()));
    chmod((fs::path(work_dir) / sub).c_str(), 0700);
  }
  // Staging directories of a previous process are never published.
  for (const auto& e : fs::directory_iterator(fs::path(work_dir) / "staging", ec)) fs::remove_all(e.path(), ec);
  return std::unique_ptr<LayerStore>(new LayerStore(work_dir));
}

std::string LayerStore::LayerPath(const Digest& diff_id) const {
  return StrCat(work_dir_, "/layers/", EntryName(diff_id));
}

int LayerStore::corrupted_entries_removed() const {
  absl::MutexLock lock(&mu_);
  return corrupted_;
}

bool LayerStore::VerifyCached(const Digest& diff_id) {
  std::string path = LayerPath(diff_id);
  std::error_code ec;
  bool dir_exists = fs::is_directory(path, ec);
  bool record_exists = fs::exists(path + ".json", ec);
  if (!dir_exists && !record_exists) return false;
  if (dir_exists && record_exists) {
    auto tree = DescribeTree(path);
    if (tree.ok() && *tree == ReadSmallFile(path + ".json")) return true;
  }
  // Corrupted or half-removed: drop it so the layer is fetched again.
  fs::remove(path + ".json", ec);
  fs::remove_all(path, ec);
  absl::MutexLock lock(&mu_);
  ++corrupted_;
  return false;
}

absl::StatusOr<LayerStore::Acquired> LayerStore::Acquire(const Digest& diff_id, const CallContext& ctx) {
  // A departing caller wakes the wait below: locking and unlocking mu_ re-evaluates its
  // condition. Registered before mu_ is taken (the callback takes mu_ under the cancellation's
  // own lock; registering under mu_ would order the two locks both ways).
  const Cancellation* departure = ctx.cancellation.get();
  CancelCallback wake(departure, [this] { absl::MutexLock relock(&mu_); });
  {
    absl::MutexLock lock(&mu_);
    auto free = [this, &diff_id, departure]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return !in_flight_.count(diff_id) || (departure != nullptr && departure->cancelled());
    };
    if (!mu_.AwaitWithDeadline(absl::Condition(&free), ctx.deadline)) {
      return absl::DeadlineExceededError("deadline exceeded waiting for a concurrent download of the same layer");
    }
    if (in_flight_.count(diff_id)) {
      return absl::CancelledError("abandoned waiting for a concurrent download of the same layer: the caller departed");
    }
    in_flight_[diff_id] = true;
  }
  // We hold the diff_id: check the cache outside the lock (it walks the tree).
  Acquired out;
  if (VerifyCached(diff_id)) {
    out.path = LayerPath(diff_id);
    Release(diff_id);
    return out;
  }
  uint64_t n;
  {
    absl::MutexLock lock(&mu_);
    n = ++staging_counter_;
  }
  std::string staging = StrCat(work_dir_, "/staging/", EntryName(diff_id).substr(0, 20), "-", getpid(), "-", n);
  std::error_code ec;
  fs::remove_all(staging, ec);
  if (mkdir(staging.c_str(), 0755) != 0) {
    Release(diff_id);
    return absl::InternalError(StrCat("cannot create staging directory ", staging));
  }
  out.lease = std::unique_ptr<Lease>(new Lease(*this, diff_id, staging));
  return out;
}

void LayerStore::Release(const Digest& diff_id) {
  absl::MutexLock lock(&mu_);
  in_flight_.erase(diff_id);
}

LayerStore::Lease::~Lease() {
  if (!committed_) {
    std::error_code ec;
    fs::remove_all(staging_, ec);
  }
  store_.Release(diff_id_);
}

absl::StatusOr<std::string> LayerStore::Lease::Commit() {
  CDH_ASSIGN_OR_RETURN(std::string tree, DescribeTree(staging_));
  std::string path = store_.LayerPath(diff_id_);
  std::error_code ec;
  fs::remove_all(path, ec);
  fs::remove(path + ".json", ec);
  if (rename(staging_.c_str(), path.c_str()) != 0) {
    return absl::InternalError(StrCat("cannot publish layer ", diff_id_.String()));
  }
  committed_ = true;
  // The record comes last: a directory without one is treated as corrupt and re-fetched.
  CDH_RETURN_IF_ERROR(WriteFileAtomically(path + ".json", tree));
  return path;
}

}  // namespace cdh::image
