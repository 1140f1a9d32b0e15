#include "tools/unseal_dir.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "common/file_util.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace cdh::tool {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kSealedPrefix = "sealed.";

// True when the file starts with "sealed." (reads 7 bytes only, as the agent does).
absl::StatusOr<bool> StartsWithSealed(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::UnavailableError(StrCat("cannot open ", path.string()));
  char head[kSealedPrefix.size()];
  in.read(head, sizeof(head));
  return in.gcount() == static_cast<std::streamsize>(sizeof(head)) &&
         std::string_view(head, sizeof(head)) == kSealedPrefix;
}

// The symlink text for `unsealed` seen from `dir`: relative when under `dir`, else absolute.
std::string LinkText(const fs::path& canonical_dir, const fs::path& unsealed) {
  fs::path rel = unsealed.lexically_relative(canonical_dir);
  if (!rel.empty() && *rel.begin() != "..") return rel.string();
  return unsealed.string();
}

absl::Status UnsealEntry(const fs::path& canonical_dir, const fs::directory_entry& entry, const UnsealFunction& unseal,
                         UnsealDirEntry& out) {
  std::error_code ec;
  fs::path target = fs::canonical(entry.path(), ec);
  if (ec) return absl::NotFoundError(StrCat("cannot resolve ", entry.path().string()));
  CDH_ASSIGN_OR_RETURN(std::string sealed, ReadFileBounded(target.string(), kMaxSealedFileSize));
  CDH_ASSIGN_OR_RETURN(SecretBytes plaintext, unseal(sealed));
  struct stat st {};
  unsigned mode = ::stat(target.c_str(), &st) == 0 ? (st.st_mode & 07777) : 0600;
  fs::path unsealed = target;
  unsealed += ".unsealed";
  CDH_RETURN_IF_ERROR(WriteFileAtomic(unsealed.string(), plaintext.RevealString(), mode));
  out.unsealed_path = unsealed.string();
  // Replace the entry: make the new link beside it, then rename over it (atomic for readers).
  fs::path tmp_link = entry.path();
  tmp_link += ".cdh-tool-link";
  fs::remove(tmp_link, ec);
  fs::create_symlink(LinkText(canonical_dir, unsealed), tmp_link, ec);
  if (ec) return absl::UnavailableError(StrCat("cannot create symlink beside ", entry.path().string()));
  fs::rename(tmp_link, entry.path(), ec);
  if (ec) {
    fs::remove(tmp_link, ec);
    return absl::UnavailableError(StrCat("cannot replace ", entry.path().string()));
  }
  return absl::OkStatus();
}

}  // namespace

bool UnsealDirReport::AllOk() const {
  return std::all_of(entries.begin(), entries.end(), [](const UnsealDirEntry& e) { return e.status.ok(); });
}

absl::StatusOr<UnsealDirReport> UnsealDir(const std::string& dir, const UnsealFunction& unseal) {
  std::error_code ec;
  fs::file_status st = fs::status(dir, ec);
  if (!fs::exists(st)) return absl::NotFoundError(StrCat("directory ", dir, " does not exist"));
  if (!fs::is_directory(st)) return absl::InvalidArgumentError(StrCat(dir, " is not a directory"));
  fs::path canonical_dir = fs::canonical(dir, ec);
  if (ec) return absl::UnavailableError(StrCat("cannot resolve ", dir));

  std::vector<fs::directory_entry> entries;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) entries.push_back(*it);
  if (ec) return absl::UnavailableError(StrCat("cannot list ", dir));
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.path().filename() < b.path().filename(); });

  UnsealDirReport report;
  for (const fs::directory_entry& entry : entries) {
    std::error_code type_ec;
    fs::file_status own = entry.symlink_status(type_ec);
    if (type_ec || !(fs::is_regular_file(own) || fs::is_symlink(own))) continue;
    fs::path target = fs::canonical(entry.path(), type_ec);
    if (type_ec || !fs::is_regular_file(fs::status(target, type_ec))) continue;
    absl::StatusOr<bool> sealed = StartsWithSealed(target);
    UnsealDirEntry out;
    out.name = entry.path().filename().string();
    if (!sealed.ok()) {
      out.status = sealed.status();
    } else if (!*sealed) {
      continue;
    } else {
      out.status = UnsealEntry(canonical_dir, entry, unseal, out);
    }
    report.entries.push_back(std::move(out));
  }
  return report;
}

}  // namespace cdh::tool
