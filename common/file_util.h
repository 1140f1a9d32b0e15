// Small filesystem helpers with bounded reads and safe writes. Thread-safe (no shared state).
#ifndef CDH_COMMON_FILE_UTIL_H_
#define CDH_COMMON_FILE_UTIL_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/secret_bytes.h"

namespace cdh {

// Reads a whole regular file of at most `max_bytes` bytes.
// NOT_FOUND if it does not exist, INVALID_ARGUMENT if it is not a regular file or is larger than
// `max_bytes`, UNAVAILABLE for other I/O errors. Messages name the path.
absl::StatusOr<std::string> ReadFileBounded(const std::string& path, size_t max_bytes);
absl::StatusOr<SecretBytes> ReadSecretFile(const std::string& path, size_t max_bytes);

// Writes `bytes` to `path` with `mode` through a temporary file in the same directory and a
// rename, so a reader sees either the old file or the whole new one. Creates the parent
// directories (mode 0700). UNAVAILABLE on I/O errors.
absl::Status WriteFileAtomic(const std::string& path, std::string_view bytes, unsigned mode);

// Creates `dir` and its parents with `mode` for the ones it creates. UNAVAILABLE on failure.
absl::Status MakeDirs(const std::string& dir, unsigned mode);

}  // namespace cdh

#endif  // CDH_COMMON_FILE_UTIL_H_
