// Options of the `block-device` SecureMount volume type, parsed once into a typed struct
// (cdh-api.md §11.2). Option names and values are upstream's.
//
// Deviations from upstream, stricter on purpose (strict, documented parsing):
//  - `dataIntegrity` accepts exactly "true" or "false" (absent = false); upstream silently turns
//    "TRUE" or "1" into "off", which is a downgrade the caller did not ask for.
//  - `deviceId` must be exactly "<major>:<minor>" in decimal; `devicePath` must be absolute.
//  - `mapperName` is limited to [A-Za-z0-9._-]{1,64}.
// Unknown option keys are ignored, as upstream does (callers send extra keys).
// Every error is INVALID_ARGUMENT naming the option, except a known-but-unsupported value
// (`encryptionType=zfs`), which is UNIMPLEMENTED. Messages never echo a key's value.
#ifndef CDH_STORAGE_BLOCK_DEVICE_OPTIONS_H_
#define CDH_STORAGE_BLOCK_DEVICE_OPTIONS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace cdh::storage {

enum class SourceType { kEmpty, kEncrypted };
enum class TargetType { kDevice, kFileSystem };
enum class KeySourceKind {
  kRandom,  // `key` absent: 4096 random bytes, ephemeral volume
  kSealed,  // "sealed.…": unsealed by the hub (cdh-api.md §7)
  kKbs,     // KBS resource URI ("kbs://…", "kbs+…"): fetched by the hub (§9.1)
  kFile,    // "file://<absolute path>": read locally
};

struct KeySource {
  KeySourceKind kind = KeySourceKind::kRandom;
  std::string uri;  // the option's value (sealed secret / KBS URI); the path for kFile
};

struct BlockDeviceOptions {
  std::optional<std::pair<uint32_t, uint32_t>> device_id;  // major, minor (wins over device_path)
  std::string device_path;
  SourceType source_type = SourceType::kEmpty;
  KeySource key;
  TargetType target_type = TargetType::kFileSystem;
  std::string filesystem_type = "ext4";
  std::vector<std::string> mkfs_opts;  // `mkfsOpts` split on ASCII whitespace
  bool data_integrity = false;
  std::string mapper_name;  // empty = generate
};

absl::StatusOr<BlockDeviceOptions> ParseBlockDeviceOptions(const std::map<std::string, std::string>& options);

// argv for formatting `device` with ext4: `mkfs.ext4 -F -q <mkfs_opts...> <device>`. With
// `data_integrity`, `lazy_itable_init=0` is merged into the (first) `-E` option unless the
// caller already set lazy_itable_init, so mkfs never leaves never-written inode tables that
// dm-integrity would fail to read (upstream PR #1451); the caller's options are
// kept otherwise.
std::vector<std::string> Ext4MkfsArgv(const std::vector<std::string>& mkfs_opts, bool data_integrity,
                                      const std::string& device);

}  // namespace cdh::storage

#endif  // CDH_STORAGE_BLOCK_DEVICE_OPTIONS_H_
