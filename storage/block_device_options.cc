#include "storage/block_device_options.h"

#include <charconv>

#include "common/strings.h"

namespace cdh::storage {
namespace {

absl::Status BadOption(std::string_view name, std::string_view why) {
  return absl::InvalidArgumentError(StrCat("block-device option `", name, "`: ", why));
}

const std::string* Find(const std::map<std::string, std::string>& m, const char* key) {
  auto it = m.find(key);
  return it == m.end() ? nullptr : &it->second;
}

bool ParseU32(std::string_view s, uint32_t& out) {
  if (s.empty() || s.size() > 10) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

bool IsAsciiSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

}  // namespace

absl::StatusOr<BlockDeviceOptions> ParseBlockDeviceOptions(const std::map<std::string, std::string>& options) {
  BlockDeviceOptions o;
  if (const std::string* v = Find(options, "deviceId")) {
    const auto parts = StrSplit(*v, ':');
    uint32_t major = 0, minor = 0;
    if (parts.size() != 2 || !ParseU32(parts[0], major) || !ParseU32(parts[1], minor)) {
      return BadOption("deviceId", "must be in the format of `MAJ:MIN` (decimal)");
    }
    o.device_id = std::make_pair(major, minor);
  }
  if (const std::string* v = Find(options, "devicePath")) {
    if (v->empty() || (*v)[0] != '/' || v->find('\0') != std::string::npos || v->size() > 4096) {
      return BadOption("devicePath", "must be an absolute path");
    }
    o.device_path = *v;
  }
  if (!o.device_id && o.device_path.empty()) {
    return absl::InvalidArgumentError("block-device: either `deviceId` or `devicePath` must be specified");
  }

  const std::string* source = Find(options, "sourceType");
  if (source == nullptr) return BadOption("sourceType", "is required (empty | encrypted)");
  if (*source == "empty") {
    o.source_type = SourceType::kEmpty;
  } else if (*source == "encrypted") {
    o.source_type = SourceType::kEncrypted;
  } else {
    return BadOption("sourceType", "must be `empty` or `encrypted`");
  }

  if (const std::string* v = Find(options, "key")) {
    o.key.uri = *v;
    if (v->rfind("sealed.", 0) == 0) {
      o.key.kind = KeySourceKind::kSealed;
    } else if (v->rfind("kbs://", 0) == 0 || v->rfind("kbs+", 0) == 0) {
      o.key.kind = KeySourceKind::kKbs;
    } else if (v->rfind("file://", 0) == 0) {
      o.key.kind = KeySourceKind::kFile;
      o.key.uri = v->substr(7);
      if (o.key.uri.empty() || o.key.uri[0] != '/') return BadOption("key", "file:// URI needs an absolute path");
    } else {
      return BadOption("key", "the scheme of the key URI should be `kbs`, `file` or `sealed`");
    }
  } else if (o.source_type == SourceType::kEncrypted) {
    // Without a key the volume would get a fresh random one, which cannot open an existing volume.
    return BadOption("key", "is required for sourceType=encrypted (an absent key means a new random key)");
  }

  const std::string* enc = Find(options, "encryptionType");
  if (enc == nullptr) return BadOption("encryptionType", "is required (luks2)");
  if (*enc == "zfs") return absl::UnimplementedError("block-device option `encryptionType`: zfs is not supported");
  if (*enc != "luks2") return BadOption("encryptionType", "must be `luks2`");

  const std::string* target = Find(options, "targetType");
  if (target == nullptr) return BadOption("targetType", "is required for luks2 (device | fileSystem)");
  if (*target == "device") {
    o.target_type = TargetType::kDevice;
  } else if (*target == "fileSystem") {
    o.target_type = TargetType::kFileSystem;
  } else {
    return BadOption("targetType", "must be `device` or `fileSystem`");
  }

  if (const std::string* v = Find(options, "filesystemType")) {
    if (*v != "ext4") return BadOption("filesystemType", "must be `ext4`");
  }
  if (const std::string* v = Find(options, "mkfsOpts")) {
    std::string cur;
    for (char c : *v) {
      if (c == '\0') return BadOption("mkfsOpts", "contains a NUL byte");
      if (IsAsciiSpace(c)) {
        if (!cur.empty()) o.mkfs_opts.push_back(std::move(cur));
        cur.clear();
      } else {
        cur.push_back(c);
      }
    }
    if (!cur.empty()) o.mkfs_opts.push_back(std::move(cur));
  }
  if (const std::string* v = Find(options, "dataIntegrity")) {
    if (*v == "true") {
      o.data_integrity = true;
    } else if (*v != "false") {
      return BadOption("dataIntegrity", "must be `true` or `false`");
    }
  }
  if (const std::string* v = Find(options, "mapperName")) {
    if (v->empty() || v->size() > 64) return BadOption("mapperName", "must be 1..64 characters");
    for (char c : *v) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                      c == '_' || c == '-';
      if (!ok) return BadOption("mapperName", "may hold only letters, digits, `.`, `_` and `-`");
    }
    o.mapper_name = *v;
  }
  return o;
}

std::vector<std::string> Ext4MkfsArgv(const std::vector<std::string>& mkfs_opts, bool data_integrity,
                                      const std::string& device) {
  std::vector<std::string> argv = {"mkfs.ext4", "-F", "-q"};
  argv.insert(argv.end(), mkfs_opts.begin(), mkfs_opts.end());
  if (data_integrity) {
    bool set = false;
    std::string* extended = nullptr;  // the value of the first -E
    for (size_t i = 3; i < argv.size(); ++i) {
      if (argv[i].find("lazy_itable_init") != std::string::npos) set = true;
      if (extended == nullptr && argv[i] == "-E" && i + 1 < argv.size()) extended = &argv[i + 1];
      if (extended == nullptr && argv[i].size() > 2 && argv[i].rfind("-E", 0) == 0) extended = &argv[i];
    }
    if (!set) {
      if (extended != nullptr) {
        extended->append(",lazy_itable_init=0");
      } else {
        argv.push_back("-E");
        argv.push_back("lazy_itable_init=0");
      }
    }
  }
  argv.push_back(device);
  return argv;
}

}  // namespace cdh::storage
