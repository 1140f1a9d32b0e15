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

// Reads a kernel pseudo-file (sysfs, configfs, securityfs, procfs attribute) of at most
// `max_bytes` bytes, from offset 0 to end of file, in reads of at most 4096 bytes.
// The size the file system reports is ignored on purpose: the kernel announces 4096 bytes for
// every text attribute (sysfs, configfs), 0 for binary ones (configfs-tsm `outblob`, securityfs
// event logs) and for procfs files, none of which is the content's size. The limit is enforced
// on the bytes actually read (one more byte than the limit is asked for, to notice more).
// A read may block as long as the kernel makes it (a configfs-tsm `outblob` waits for the quote);
// callers that need a deadline run it on a worker (attestation/tsm_report.cc).
// Codes, each message naming the path: NOT_FOUND (ENOENT); INVALID_ARGUMENT (EINVAL: the kernel
// refuses the read in the attribute's current state, or the file is not a regular file);
// PERMISSION_DENIED (EACCES, EPERM); RESOURCE_EXHAUSTED (more than `max_bytes` bytes, or EFBIG);
// UNAVAILABLE (EIO, ENXIO, EBUSY and other I/O errors).
absl::StatusOr<std::string> ReadPseudoFile(const std::string& path, size_t max_bytes);

// Writes `bytes` to `path` with `mode` through a temporary file in the same directory and a
// rename, so a reader sees either the old file or the whole new one. Creates the parent
// directories (mode 0700). UNAVAILABLE on I/O errors.
absl::Status WriteFileAtomic(const std::string& path, std::string_view bytes, unsigned mode);

// Creates `dir` and its parents with `mode` for the ones it creates. UNAVAILABLE on failure.
absl::Status MakeDirs(const std::string& dir, unsigned mode);

// The directory of the running executable (/proc/self/exe) with a trailing '/', where the files
// installed beside the daemon live (cdh-grpc.so, cdh-role-wait); "" when /proc is unreadable.
std::string ExecutableDirectory();

}  // namespace cdh

#endif  // CDH_COMMON_FILE_UTIL_H_
