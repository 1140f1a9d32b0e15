// Keyslot operations through libcryptsetup, without device-mapper (cdh-api.md §11.3).
//
// Volume-key recovery never lets libcryptsetup read the disk: the validated metadata copy
// (Luks2Metadata::bytes) is written to a sealed, private memfd and loaded from there as the
// header device, so the bytes that were validated are the bytes that are used.
// libcryptsetup re-checks the JSON and the keyslot digest on top of our allow-list.
//
// Thread-safe (each call has its own crypt_device). Keys and passphrases stay in SecretBytes and
// go to libcryptsetup through its API, never through argv or the environment.
#ifndef CDH_STORAGE_LUKS2_KEYSLOTS_H_
#define CDH_STORAGE_LUKS2_KEYSLOTS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/secret_bytes.h"
#include "storage/luks2_metadata.h"

namespace cdh::storage {

// Derives the volume key (md.key_size bytes) from `passphrase` through any keyslot of the
// validated `md`, trying the active keyslots in order. `deadline` is checked before each
// keyslot's KDF: a KDF, once started, runs to its end (libcryptsetup has no way to stop it), so
// a deadline is overrun by at most one keyslot's KDF, whose cost Luks2Limits bounds
// (max_pbkdf2_iterations, max_argon2_time, max_argon2_memory_kib).
// PERMISSION_DENIED when no keyslot opens with it; DEADLINE_EXCEEDED when the deadline passed
// before a keyslot opened; INVALID_ARGUMENT if libcryptsetup refuses the metadata or disagrees
// with our reading of it; INTERNAL otherwise.
absl::StatusOr<SecretBytes> RecoverVolumeKey(const Luks2Metadata& md, const SecretBytes& passphrase,
                                             absl::Time deadline = absl::InfiniteFuture());

struct Luks2FormatOptions {
  uint32_t sector_size = 4096;  // bytes, as upstream formats (cdh-api.md §11.3)
  uint32_t key_bits = 512;      // aes-xts-plain64 with a 512-bit volume key
  // The daemon's passphrases are high-entropy random or broker keys, so the KDF is cheap on
  // purpose: pbkdf2-sha256 with the minimum 1000 iterations.
  uint32_t pbkdf2_iterations = 1000;
  // "" or "hmac(sha256)" (upstream's `--integrity hmac-sha256`): authenticated encryption with
  // dm-integrity; the volume key grows by the 32-byte HMAC key. Formatting it writes the
  // dm-integrity superblock to the data device and needs device-mapper (libcryptsetup activates
  // a temporary dm-integrity device); the data area is not wiped here (see data_path.h, `wipe`).
  std::string integrity;
};

// Formats a new LUKS2 volume whose data segment starts at byte 0 of `data_device` and whose
// header is the existing, empty-or-zeroed file `header_path` (detached header as upstream,
// cdh-api.md §11.3), with a fresh random volume key in keyslot 0 opened by `passphrase`.
// Touches only the header file, except with `integrity` (see above). Errors name the
// libcryptsetup step that failed, coded by its errno: FAILED_PRECONDITION for a device or
// parameters that do not fit (EINVAL, EBUSY, ENOSPC, EROFS, EACCES), UNAVAILABLE for EIO/ENOMEM,
// NOT_FOUND for a missing device, INTERNAL otherwise.
absl::Status FormatLuks2Detached(const std::string& header_path, const std::string& data_device,
                                 const SecretBytes& passphrase, const Luks2FormatOptions& options);

}  // namespace cdh::storage

#endif  // CDH_STORAGE_LUKS2_KEYSLOTS_H_
