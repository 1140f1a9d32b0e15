// Test helpers: real LUKS2 images made by the `cryptsetup` binary.
//
// `cryptsetup reencrypt --encrypt` turns a file of known plaintext into a LUKS2 image offline,
// without device-mapper; `luksDump --dump-volume-key --volume-key-file` gives the volume key.
// Test keys are written to files in the test's temp directory (test-only material).
// Not thread-safe (runs processes, writes files).
#ifndef CDH_STORAGE_TESTING_LUKS_IMAGE_H_
#define CDH_STORAGE_TESTING_LUKS_IMAGE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/secret_bytes.h"
#include "common/testing/temp_dir.h"
#include "nlohmann/json.hpp"

namespace cdh::storage::testutil {

// Runs argv[0] with `argv` (no shell); returns its exit code, stdout+stderr in `*output` if
// non-null. INTERNAL if it cannot be started.
// Why a test that mounts (root, /dev/fuse, loop devices) cannot run here; "" when it can.
std::string MountTestSkipReason();
// True when `path` is a mount point of this process's mount namespace.
bool IsMountPoint(const std::string& path);

absl::StatusOr<int> RunProgram(const std::vector<std::string>& argv, std::string* output = nullptr);

// The tests' one temp-directory helper (common/testing/temp_dir.h).
using TempDir = ::cdh::testing::TempDir;

struct LuksImageSpec {
  size_t plaintext_bytes = 4 << 20;  // known plaintext carried into the data segment
  size_t sector_size = 512;          // 512 or 4096
  std::string pbkdf = "pbkdf2";      // "pbkdf2" | "argon2id" | "argon2i", cheap parameters
  size_t key_bits = 512;             // 512 (AES-256-XTS) or 256 (AES-128-XTS)
  int extra_keyslots = 0;            // more passphrases added with luksAddKey
  std::string plaintext_file;        // if set: the plaintext is this file's bytes (e.g. an ext4 image)
};

struct LuksImage {
  std::string path;
  std::string passphrase;                // keyslot 0's passphrase
  std::vector<std::string> passphrases;  // all keyslots' passphrases, slot order
  std::vector<uint8_t> plaintext;        // what the data segment's first bytes decrypt to
  SecretBytes volume_key;                // as `cryptsetup luksDump --dump-volume-key` prints it
  uint64_t data_offset = 0;              // bytes, from luksDump
};

// Makes `dir/name` per `spec`. INTERNAL naming the failing cryptsetup step.
absl::StatusOr<LuksImage> MakeLuksImage(const TempDir& dir, const std::string& name, const LuksImageSpec& spec);

// Returns `region` (a LUKS2 metadata region with headers of `hdr_size` bytes) with `edit`
// applied to the JSON of the primary and/or secondary header and the checksums recomputed:
// a self-consistent header such as a hostile host could write.
std::string EditLuks2Json(const std::string& region, size_t hdr_size, const std::function<void(nlohmann::json&)>& edit,
                          bool primary = true, bool secondary = true);

// Writes `bytes` at `offset` of `path`.
absl::Status WriteAt(const std::string& path, uint64_t offset, const std::string& bytes);

// Reads `size` bytes at `offset` of `path`.
absl::StatusOr<std::vector<uint8_t>> ReadAt(const std::string& path, uint64_t offset, size_t size);

}  // namespace cdh::storage::testutil

#endif  // CDH_STORAGE_TESTING_LUKS_IMAGE_H_
