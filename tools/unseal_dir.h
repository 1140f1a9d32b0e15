// UnsealDir: what the kata agent does to a secret volume (cdh-api.md §14, "Secret volumes"),
// so the README's main job (scripts/demo.sh) can be reproduced without Kubernetes.
//
// For each entry of `dir` (not recursive) that is a regular file or a symlink: resolve it to
// its canonical target; if the target is a regular file whose first 7 bytes are "sealed.", read
// the whole file (untrimmed, at most kMaxSealedFileSize bytes), unseal it, write the plaintext
// to "<target>.unsealed" (same mode as the target), then replace the entry with a symlink to
// that file. In the Kubernetes layout (entry "key" -> "..data/key", "..data" -> "..<timestamp>")
// the link is "..<timestamp>/key.unsealed", exactly as the kata agent makes it. Differences
// from the agent, both where its link would dangle: the link names the file actually written
// ("<target>.unsealed", not "<parent>/<entry>.unsealed" when entry and target names differ),
// relative to `dir` when it lies under `dir` (so a plain file "key" becomes "key" ->
// "key.unsealed") and absolute otherwise.
//
// Like the agent, a failing entry does not stop the others; each outcome is reported.
// Thread-compatible (touches only `dir`).
#ifndef CDH_TOOLS_UNSEAL_DIR_H_
#define CDH_TOOLS_UNSEAL_DIR_H_

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/secret_bytes.h"

namespace cdh::tool {

// Largest sealed file read, in bytes: above the daemon's sealed-secret limit (1 MiB) so the
// daemon, not the tool, gives the error for big files, and below the 4 MiB ttrpc frame limit.
inline constexpr size_t kMaxSealedFileSize = 2 << 20;

struct UnsealDirEntry {
  std::string name;           // entry name inside `dir`
  std::string unsealed_path;  // "<target>.unsealed" when unsealed
  absl::Status status;        // OK when unsealed
};

struct UnsealDirReport {
  std::vector<UnsealDirEntry> entries;  // entries that held a sealed secret, in name order
  bool AllOk() const;
};

// Sends one sealed secret (the file's whole content) to the hub and returns the plaintext.
using UnsealFunction = std::function<absl::StatusOr<SecretBytes>(std::string_view sealed)>;

// NOT_FOUND when `dir` does not exist, INVALID_ARGUMENT when it is not a directory,
// UNAVAILABLE when it cannot be listed. Per-entry failures are in the report.
absl::StatusOr<UnsealDirReport> UnsealDir(const std::string& dir, const UnsealFunction& unseal);

}  // namespace cdh::tool

#endif  // CDH_TOOLS_UNSEAL_DIR_H_
