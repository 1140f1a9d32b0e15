// Running helper programs (mkfs.ext4) without a shell. Arguments never carry key material (argv
// is visible to every process); keys go through libcryptsetup's API. Thread-safe.
#ifndef CDH_STORAGE_PROCESS_H_
#define CDH_STORAGE_PROCESS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace cdh::storage {

// Runs argv[0] (looked up on PATH) with `argv`, stdin from /dev/null; returns its exit status
// (128+signal if killed) and, if `output` is non-null, its stdout+stderr (at most 64 KiB kept).
// INTERNAL if it cannot be started.
absl::StatusOr<int> RunProgram(const std::vector<std::string>& argv, std::string* output = nullptr);

}  // namespace cdh::storage

#endif  // CDH_STORAGE_PROCESS_H_
