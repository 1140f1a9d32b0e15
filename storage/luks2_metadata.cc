#include "storage/luks2_metadata.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <set>
#include <vector>

#include "common/byte_reader.h"
#include "common/json.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "crypto/hash.h"

namespace cdh::storage {
namespace {

using nlohmann::json;

constexpr size_t kBinaryHeaderSize = 4096;
constexpr uint64_t kMinHdrSize = 16 * 1024;
constexpr uint64_t kMaxHdrSize = 4 * 1024 * 1024;
constexpr size_t kChecksumOffset = 448;
constexpr size_t kChecksumFieldSize = 64;
constexpr uint32_t kAfStripes = 4000;
// dm-integrity as upstream formats it (cdh-api.md §11.3, `--integrity hmac-sha256`): the tag is
// an HMAC-SHA256 keyed by the last 32 bytes of the volume key; no journal encryption or MAC.
constexpr std::string_view kIntegrityHmacSha256 = "hmac(sha256)";
constexpr uint32_t kHmacSha256KeySize = 32;

absl::Status Bad(std::string_view what) { return absl::InvalidArgumentError(StrCat("LUKS2 header: ", what)); }

// A NUL-padded string field of the binary header: the bytes up to the first NUL.
std::string CString(std::string_view field) { return std::string(field.substr(0, field.find('\0'))); }

bool IsPowerOfTwo(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

// Decimal u64 as LUKS2 writes offsets and sizes ("16777216"): digits only, no sign, no overflow.
absl::StatusOr<uint64_t> ParseDecimal(const json& v, std::string_view field) {
  if (!v.is_string()) return Bad(StrCat(field, " must be a decimal string"));
  const std::string& s = v.get_ref<const std::string&>();
  uint64_t out = 0;
  if (s.empty() || s.size() > 20) return Bad(StrCat(field, " is not a valid number"));
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec != std::errc() || p != s.data() + s.size()) return Bad(StrCat(field, " is not a valid number"));
  return out;
}

absl::StatusOr<const json*> Member(const json& obj, std::string_view key, std::string_view where) {
  if (!obj.is_object()) return Bad(StrCat(where, " must be an object"));
  auto it = obj.find(std::string(key));
  if (it == obj.end()) return Bad(StrCat(where, ".", key, " is missing"));
  return &*it;
}

absl::StatusOr<std::string> StringMember(const json& obj, std::string_view key, std::string_view where) {
  CDH_ASSIGN_OR_RETURN(const json* v, Member(obj, key, where));
  if (!v->is_string()) return Bad(StrCat(where, ".", key, " must be a string"));
  return v->get<std::string>();
}

absl::StatusOr<uint64_t> UintMember(const json& obj, std::string_view key, std::string_view where) {
  CDH_ASSIGN_OR_RETURN(const json* v, Member(obj, key, where));
  if (!v->is_number_unsigned()) return Bad(StrCat(where, ".", key, " must be a non-negative integer"));
  return v->get<uint64_t>();
}

absl::StatusOr<uint64_t> DecimalMember(const json& obj, std::string_view key, std::string_view where) {
  CDH_ASSIGN_OR_RETURN(const json* v, Member(obj, key, where));
  return ParseDecimal(*v, StrCat(where, ".", key));
}

// Object keys of keyslots/segments/digests are small decimal ids.
absl::StatusOr<int> Id(const std::string& key, int max, std::string_view where) {
  int id = -1;
  auto [p, ec] = std::from_chars(key.data(), key.data() + key.size(), id);
  if (key.empty() || ec != std::errc() || p != key.data() + key.size() || id < 0 || id >= max ||
      (key.size() > 1 && key[0] == '0')) {
    return Bad(StrCat(where, " id `", key.substr(0, 16), "` is invalid"));
  }
  return id;
}

absl::Status CheckNoIntegrity(const json& obj, std::string_view where) {
  if (obj.contains("integrity")) return Bad(StrCat(where, ".integrity is not supported"));
  return absl::OkStatus();
}

absl::Status CheckHashName(const std::string& h, std::string_view where) {
  if (h != "sha256" && h != "sha512") return Bad(StrCat(where, " hash `", h.substr(0, 32), "` is not allowed"));
  return absl::OkStatus();
}

struct BinaryHeader {
  uint64_t hdr_size = 0;
  uint64_t seqid = 0;
  std::string uuid;
};

// Checks the binary header at `off` (magic, version, sizes, checksum over hdr_size bytes).
// Layout (cryptsetup, docs/on-disk-format-luks2.pdf §2): magic[6] | version u16 | hdr_size u64 |
// seqid u64 | label[48] | csum_alg[32] | salt[64] | uuid[40] | subsystem[48] | hdr_offset u64 |
// padding[184] | csum[64] | padding[7*512], big-endian.
absl::StatusOr<BinaryHeader> CheckBinaryHeader(const std::string& region, size_t off, bool secondary,
                                               uint64_t expected_size) {
  const std::string_view which = secondary ? "secondary header" : "primary header";
  const ByteReader all(region, "LUKS2 header");
  absl::StatusOr<ByteReader> header = all.Slice(off, kBinaryHeaderSize);
  if (!header.ok()) return Bad(StrCat(which, " is truncated"));
  ByteReader& r = *header;
  static const char kPrimaryMagic[6] = {'L', 'U', 'K', 'S', '\xba', '\xbe'};
  static const char kSecondaryMagic[6] = {'S', 'K', 'U', 'L', '\xba', '\xbe'};
  CDH_ASSIGN_OR_RETURN(std::string_view magic, r.Bytes(6));
  if (magic != std::string_view(secondary ? kSecondaryMagic : kPrimaryMagic, 6)) {
    return secondary ? Bad("secondary header magic is wrong")
                     : absl::InvalidArgumentError("not a LUKS2 device (no LUKS magic)");
  }
  CDH_ASSIGN_OR_RETURN(uint16_t version, r.U16Be());
  if (version != 2) return Bad(StrCat(which, " version is not 2"));
  BinaryHeader h;
  CDH_ASSIGN_OR_RETURN(h.hdr_size, r.U64Be());
  CDH_ASSIGN_OR_RETURN(h.seqid, r.U64Be());
  if (h.hdr_size < kMinHdrSize || h.hdr_size > kMaxHdrSize || !IsPowerOfTwo(h.hdr_size)) {
    return Bad(StrCat(which, " size ", h.hdr_size, " is out of range"));
  }
  if (expected_size != 0 && h.hdr_size != expected_size) return Bad("primary and secondary header sizes differ");
  CDH_RETURN_IF_ERROR(r.Skip(48));  // label
  CDH_ASSIGN_OR_RETURN(std::string_view csum_alg, r.Bytes(32));
  CDH_RETURN_IF_ERROR(r.Skip(64));  // salt
  CDH_ASSIGN_OR_RETURN(std::string_view uuid, r.Bytes(40));
  CDH_RETURN_IF_ERROR(r.Skip(48));  // subsystem
  CDH_ASSIGN_OR_RETURN(uint64_t hdr_offset, r.U64Be());
  if (hdr_offset != off) return Bad(StrCat(which, " offset field is wrong"));
  if (CString(csum_alg) != "sha256") return Bad(StrCat(which, " checksum algorithm is not sha256"));
  absl::StatusOr<ByteReader> whole = all.Slice(off, h.hdr_size);
  if (!whole.ok()) return Bad(StrCat(which, " is truncated"));
  std::string copy(whole->Rest());
  CDH_ASSIGN_OR_RETURN(ByteReader csum, ByteReader(copy, "LUKS2 header").Slice(kChecksumOffset, 32));
  const std::string stored(csum.Rest());
  std::fill_n(copy.begin() + kChecksumOffset, kChecksumFieldSize, '\0');
  if (crypto::Sha256(copy) != stored) return Bad(StrCat(which, " checksum mismatch"));
  h.uuid = CString(uuid);
  return h;
}

absl::StatusOr<json> ParseJsonArea(const std::string& region, size_t off, uint64_t hdr_size) {
  absl::StatusOr<ByteReader> area_bytes =
      ByteReader(region, "LUKS2 header").Slice(off + kBinaryHeaderSize, hdr_size - kBinaryHeaderSize);
  if (!area_bytes.ok()) return Bad("JSON area is truncated");
  const std::string_view area = area_bytes->Rest();
  const auto nul = area.find('\0');
  if (nul == std::string::npos) return Bad("JSON area is not NUL-terminated");
  // The rest of the area must be zero padding: nothing hidden after the JSON text.
  if (area.find_first_not_of('\0', nul) != std::string::npos) return Bad("JSON area has bytes after the JSON text");
  // Duplicate keys are refused: parsers disagree on which copy wins, and libcryptsetup (json-c)
  // must not see a different value from the one validated here.
  std::vector<std::set<std::string>> keys;
  bool duplicate = false;
  auto callback = [&](int /*depth*/, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
        keys.emplace_back();
        break;
      case json::parse_event_t::object_end:
        if (!keys.empty()) keys.pop_back();
        break;
      case json::parse_event_t::key:
        if (!keys.empty() && parsed.is_string() && !keys.back().insert(parsed.get<std::string>()).second) {
          duplicate = true;
        }
        break;
      default:
        break;
    }
    return true;
  };
  const std::string_view text(area.data(), nul);
  json j = json::parse(text.begin(), text.end(), callback, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Bad("JSON metadata is not valid JSON");
  if (duplicate) return Bad("JSON metadata has a duplicate key");
  if (!j.is_object()) return Bad("JSON metadata is not an object");
  return j;
}

struct Keyslot {
  uint64_t key_size = 0;
};

absl::Status CheckKdf(const json& kdf, std::string_view where, const Luks2Limits& limits) {
  CDH_ASSIGN_OR_RETURN(std::string type, StringMember(kdf, "type", where));
  if (type == "pbkdf2") {
    CDH_ASSIGN_OR_RETURN(std::string hash, StringMember(kdf, "hash", where));
    CDH_RETURN_IF_ERROR(CheckHashName(hash, StrCat(where, ".hash")));
    CDH_ASSIGN_OR_RETURN(uint64_t it, UintMember(kdf, "iterations", where));
    if (it < 1000 || it > limits.max_pbkdf2_iterations) {
      return Bad(StrCat(where, ".iterations ", it, " is outside [1000, ", limits.max_pbkdf2_iterations, "]"));
    }
  } else if (type == "argon2i" || type == "argon2id") {
    CDH_ASSIGN_OR_RETURN(uint64_t time, UintMember(kdf, "time", where));
    CDH_ASSIGN_OR_RETURN(uint64_t memory, UintMember(kdf, "memory", where));
    CDH_ASSIGN_OR_RETURN(uint64_t cpus, UintMember(kdf, "cpus", where));
    if (time < 1 || time > limits.max_argon2_time) {
      return Bad(StrCat(where, ".time ", time, " is outside [1, ", limits.max_argon2_time, "]"));
    }
    if (memory < 32 || memory > limits.max_argon2_memory_kib) {
      return Bad(StrCat(where, ".memory ", memory, " KiB is outside [32, ", limits.max_argon2_memory_kib, "]"));
    }
    if (cpus < 1 || cpus > limits.max_argon2_cpus) {
      return Bad(StrCat(where, ".cpus ", cpus, " is outside [1, ", limits.max_argon2_cpus, "]"));
    }
  } else {
    return Bad(StrCat(where, ".type `", type.substr(0, 32), "` is not allowed"));
  }
  CDH_ASSIGN_OR_RETURN(std::string salt, StringMember(kdf, "salt", where));
  if (salt.empty()) return Bad(StrCat(where, ".salt is empty"));
  return absl::OkStatus();
}

absl::StatusOr<Keyslot> CheckKeyslot(const json& ks, std::string_view where, uint64_t region_begin, uint64_t region_end,
                                     const Luks2Limits& limits) {
  CDH_ASSIGN_OR_RETURN(std::string type, StringMember(ks, "type", where));
  if (type != "luks2") return Bad(StrCat(where, ".type `", type.substr(0, 32), "` is not allowed"));
  Keyslot out;
  CDH_ASSIGN_OR_RETURN(out.key_size, UintMember(ks, "key_size", where));
  // 32/64 bytes of AES-XTS key, plus the HMAC key when the segment has integrity (checked
  // against the segment below).
  if (out.key_size != 32 && out.key_size != 64 && out.key_size != 64 + kHmacSha256KeySize) {
    return Bad(StrCat(where, ".key_size must be 32, 64 or 96"));
  }
  CDH_ASSIGN_OR_RETURN(const json* af, Member(ks, "af", where));
  const std::string af_where = StrCat(where, ".af");
  CDH_ASSIGN_OR_RETURN(std::string af_type, StringMember(*af, "type", af_where));
  if (af_type != "luks1") return Bad(StrCat(af_where, ".type must be luks1"));
  CDH_ASSIGN_OR_RETURN(uint64_t stripes, UintMember(*af, "stripes", af_where));
  if (stripes != kAfStripes) return Bad(StrCat(af_where, ".stripes must be 4000"));
  CDH_ASSIGN_OR_RETURN(std::string af_hash, StringMember(*af, "hash", af_where));
  CDH_RETURN_IF_ERROR(CheckHashName(af_hash, StrCat(af_where, ".hash")));

  CDH_ASSIGN_OR_RETURN(const json* area, Member(ks, "area", where));
  const std::string a_where = StrCat(where, ".area");
  CDH_ASSIGN_OR_RETURN(std::string a_type, StringMember(*area, "type", a_where));
  if (a_type != "raw") return Bad(StrCat(a_where, ".type must be raw"));
  CDH_ASSIGN_OR_RETURN(std::string a_enc, StringMember(*area, "encryption", a_where));
  if (a_enc != "aes-xts-plain64") return Bad(StrCat(a_where, ".encryption `", a_enc.substr(0, 32), "` is not allowed"));
  CDH_ASSIGN_OR_RETURN(uint64_t a_key, UintMember(*area, "key_size", a_where));
  if (a_key != 32 && a_key != 64) return Bad(StrCat(a_where, ".key_size must be 32 or 64"));
  CDH_RETURN_IF_ERROR(CheckNoIntegrity(*area, a_where));
  CDH_ASSIGN_OR_RETURN(uint64_t off, DecimalMember(*area, "offset", a_where));
  CDH_ASSIGN_OR_RETURN(uint64_t size, DecimalMember(*area, "size", a_where));
  // The whole area inside the keyslot region, and large enough for the split key.
  if (off < region_begin || off % 4096 != 0 || size > region_end || off > region_end - size) {
    return Bad(StrCat(a_where, " [", off, ", +", size, ") is outside the keyslot region [", region_begin, ", ",
                      region_end, ")"));
  }
  if (size < out.key_size * stripes) return Bad(StrCat(a_where, ".size is smaller than key_size * stripes"));

  CDH_ASSIGN_OR_RETURN(const json* kdf, Member(ks, "kdf", where));
  CDH_RETURN_IF_ERROR(CheckKdf(*kdf, StrCat(where, ".kdf"), limits));
  CDH_RETURN_IF_ERROR(CheckNoIntegrity(ks, where));
  return out;
}

absl::Status CheckDigest(const json& d, std::string_view where, const std::set<std::string>& keyslot_ids,
                         const Luks2Limits& limits) {
  CDH_ASSIGN_OR_RETURN(std::string type, StringMember(d, "type", where));
  if (type != "pbkdf2") return Bad(StrCat(where, ".type must be pbkdf2"));
  CDH_ASSIGN_OR_RETURN(std::string hash, StringMember(d, "hash", where));
  CDH_RETURN_IF_ERROR(CheckHashName(hash, StrCat(where, ".hash")));
  CDH_ASSIGN_OR_RETURN(uint64_t it, UintMember(d, "iterations", where));
  if (it < 1000 || it > limits.max_pbkdf2_iterations) return Bad(StrCat(where, ".iterations out of range"));
  CDH_ASSIGN_OR_RETURN(const json* ks, Member(d, "keyslots", where));
  CDH_ASSIGN_OR_RETURN(const json* segs, Member(d, "segments", where));
  if (!ks->is_array() || !segs->is_array()) return Bad(StrCat(where, " keyslots/segments must be arrays"));
  for (const json& k : *ks) {
    if (!k.is_string() || !keyslot_ids.count(k.get<std::string>()))
      return Bad(StrCat(where, " names an unknown keyslot"));
  }
  if (segs->size() != 1 || !(*segs)[0].is_string() || (*segs)[0].get<std::string>() != "0") {
    return Bad(StrCat(where, ".segments must be [\"0\"]"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Luks2Metadata> ParseLuks2Metadata(std::string region, uint64_t device_size, bool detached,
                                                 const Luks2Limits& limits) {
  CDH_ASSIGN_OR_RETURN(BinaryHeader primary, CheckBinaryHeader(region, 0, false, 0));
  const uint64_t hs = primary.hdr_size;
  CDH_ASSIGN_OR_RETURN(BinaryHeader secondary, CheckBinaryHeader(region, hs, true, hs));
  // Both copies must say the same thing; a host that edits one copy is refused, not "repaired".
  if (primary.seqid != secondary.seqid || primary.uuid != secondary.uuid ||
      region.compare(kBinaryHeaderSize, hs - kBinaryHeaderSize, region, hs + kBinaryHeaderSize,
                     hs - kBinaryHeaderSize) != 0) {
    return Bad("primary and secondary headers differ");
  }
  CDH_ASSIGN_OR_RETURN(json j, ParseJsonArea(region, 0, hs));

  Luks2Metadata md;
  md.hdr_size = hs;
  md.uuid = primary.uuid;

  // config
  CDH_ASSIGN_OR_RETURN(const json* config, Member(j, "config", "metadata"));
  CDH_ASSIGN_OR_RETURN(uint64_t json_size, DecimalMember(*config, "json_size", "config"));
  if (json_size != hs - kBinaryHeaderSize) return Bad("config.json_size does not match the header size");
  CDH_ASSIGN_OR_RETURN(md.keyslots_size, DecimalMember(*config, "keyslots_size", "config"));
  if (md.keyslots_size % 4096 != 0 || md.keyslots_size > limits.max_keyslots_size) {
    return Bad(StrCat("config.keyslots_size ", md.keyslots_size, " is not allowed"));
  }
  if (auto it = config->find("requirements"); it != config->end()) {
    if (!it->is_object()) return Bad("config.requirements must be an object");
    auto m = it->find("mandatory");
    if (m != it->end() && !(m->is_array() && m->empty())) {
      return Bad("config.requirements.mandatory is not empty (e.g. unfinished re-encryption)");
    }
  }
  const uint64_t region_begin = 2 * hs, region_end = 2 * hs + md.keyslots_size;
  if (region.size() < region_end) return Bad("metadata region is truncated");
  if (!detached && device_size < region_end) return Bad("device is smaller than its metadata region");
  region.resize(region_end);

  // keyslots
  CDH_ASSIGN_OR_RETURN(const json* keyslots, Member(j, "keyslots", "metadata"));
  if (!keyslots->is_object() || keyslots->empty()) return Bad("keyslots must be a non-empty object");
  if (keyslots->size() > static_cast<size_t>(limits.max_keyslots)) return Bad("too many keyslots");
  std::set<std::string> keyslot_ids;
  uint64_t key_size = 0;
  for (const auto& [id, ks] : keyslots->items()) {
    CDH_RETURN_IF_ERROR(Id(id, limits.max_keyslots, "keyslot").status());
    CDH_ASSIGN_OR_RETURN(Keyslot k, CheckKeyslot(ks, StrCat("keyslots.", id), region_begin, region_end, limits));
    if (key_size != 0 && k.key_size != key_size) return Bad("keyslots have different key sizes");
    key_size = k.key_size;
    keyslot_ids.insert(id);
  }
  // Keyslot areas must not overlap either (each slot owns its bytes).
  {
    std::vector<std::pair<uint64_t, uint64_t>> areas;
    for (const auto& [id, ks] : keyslots->items()) {
      const json& area = ks["area"];
      areas.emplace_back(*ParseDecimal(area["offset"], "offset"), *ParseDecimal(area["size"], "size"));
    }
    std::sort(areas.begin(), areas.end());
    for (size_t i = 1; i < areas.size(); ++i) {
      if (areas[i - 1].first + areas[i - 1].second > areas[i].first) return Bad("keyslot areas overlap");
    }
  }
  md.keyslots = static_cast<int>(keyslot_ids.size());
  md.key_size = static_cast<uint32_t>(key_size);

  // segments: exactly one crypt segment "0".
  CDH_ASSIGN_OR_RETURN(const json* segments, Member(j, "segments", "metadata"));
  if (!segments->is_object() || segments->size() != 1 || !segments->contains("0")) {
    return Bad("segments must hold exactly one segment \"0\"");
  }
  const json& seg = (*segments)["0"];
  CDH_ASSIGN_OR_RETURN(std::string seg_type, StringMember(seg, "type", "segments.0"));
  if (seg_type != "crypt") return Bad(StrCat("segments.0.type `", seg_type.substr(0, 32), "` is not allowed"));
  CDH_ASSIGN_OR_RETURN(std::string enc, StringMember(seg, "encryption", "segments.0"));
  if (enc != "aes-xts-plain64") {
    return Bad(StrCat("segments.0.encryption `", enc.substr(0, 32), "` is not allowed (only aes-xts-plain64)"));
  }
  CDH_ASSIGN_OR_RETURN(uint64_t ss, UintMember(seg, "sector_size", "segments.0"));
  if (ss != 512 && ss != 4096) return Bad("segments.0.sector_size must be 512 or 4096");
  md.sector_size = static_cast<uint32_t>(ss);
  CDH_ASSIGN_OR_RETURN(uint64_t iv_tweak, DecimalMember(seg, "iv_tweak", "segments.0"));
  if (iv_tweak != 0) return Bad("segments.0.iv_tweak must be 0");
  if (auto it = seg.find("integrity"); it != seg.end()) {
    // Only what upstream formats: HMAC-SHA256 tags, journal neither encrypted nor MAC'ed.
    CDH_ASSIGN_OR_RETURN(std::string type, StringMember(*it, "type", "segments.0.integrity"));
    CDH_ASSIGN_OR_RETURN(std::string jenc, StringMember(*it, "journal_encryption", "segments.0.integrity"));
    CDH_ASSIGN_OR_RETURN(std::string jmac, StringMember(*it, "journal_integrity", "segments.0.integrity"));
    if (type != kIntegrityHmacSha256) {
      return Bad(StrCat("segments.0.integrity.type `", type.substr(0, 32), "` is not allowed (only hmac(sha256))"));
    }
    if (jenc != "none" || jmac != "none") return Bad("segments.0.integrity journal encryption/integrity must be none");
    if (it->size() != 3) return Bad("segments.0.integrity has unknown members");
    md.integrity = std::string(kIntegrityHmacSha256);
    md.integrity_key_size = kHmacSha256KeySize;
  }
  if (md.key_size != 32 + md.integrity_key_size && md.key_size != 64 + md.integrity_key_size) {
    return Bad(md.integrity.empty() ? "keyslots key_size must be 32 or 64 without integrity"
                                    : "keyslots key_size must be 64 or 96 with integrity (AES-XTS key + HMAC key)");
  }
  if (auto f = seg.find("flags"); f != seg.end() && !(f->is_array() && f->empty())) {
    return Bad("segments.0.flags must be empty");
  }
  CDH_ASSIGN_OR_RETURN(md.data_offset, DecimalMember(seg, "offset", "segments.0"));
  if (md.data_offset % ss != 0) return Bad("segments.0.offset is not sector aligned");
  if (!detached && md.data_offset < region_end) return Bad("segments.0.offset overlaps the metadata region");
  if (md.data_offset > device_size) return Bad("segments.0.offset is past the end of the device");
  CDH_ASSIGN_OR_RETURN(const json* size, Member(seg, "size", "segments.0"));
  if (size->is_string() && size->get<std::string>() == "dynamic") {
    if ((device_size - md.data_offset) % ss != 0) return Bad("data area is not a whole number of sectors");
  } else {
    CDH_ASSIGN_OR_RETURN(uint64_t n, ParseDecimal(*size, "segments.0.size"));
    if (n == 0 || n % ss != 0 || n > device_size - md.data_offset) {
      return Bad(
          StrCat("segments.0 [", md.data_offset, ", +", n, ") does not fit the device of ", device_size, " bytes"));
    }
    md.data_size = n;
  }
  // digests
  CDH_ASSIGN_OR_RETURN(const json* digests, Member(j, "digests", "metadata"));
  if (!digests->is_object() || digests->empty() || digests->size() > 8) return Bad("digests must hold 1..8 entries");
  for (const auto& [id, d] : digests->items()) {
    CDH_RETURN_IF_ERROR(Id(id, 8, "digest").status());
    CDH_RETURN_IF_ERROR(CheckDigest(d, StrCat("digests.", id), keyslot_ids, limits));
  }
  if (auto t = j.find("tokens"); t != j.end() && !t->is_object()) return Bad("tokens must be an object");

  md.bytes = std::move(region);
  return md;
}

namespace {

absl::Status PreadExact(int fd, std::string& out, size_t size) {
  out.resize(size);
  size_t done = 0;
  while (done < size) {
    ssize_t n = pread(fd, out.data() + done, size - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::UnavailableError(StrCat("reading the LUKS2 header failed: ", std::strerror(errno)));
    if (n == 0) return Bad("device ends inside the metadata region");
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Luks2Metadata> ReadLuks2Metadata(int header_fd, uint64_t device_size, bool detached,
                                                const Luks2Limits& limits) {
  // Sizes are learnt from a first look; the final buffer is read in one go and validated in full,
  // so every check applies to the bytes that are later used.
  std::string head;
  CDH_RETURN_IF_ERROR(PreadExact(header_fd, head, kBinaryHeaderSize));
  ByteReader r(head, "LUKS2 header");
  CDH_ASSIGN_OR_RETURN(std::string_view magic, r.Bytes(6));
  if (magic != std::string_view("LUKS\xba\xbe", 6))
    return absl::InvalidArgumentError("not a LUKS2 device (no LUKS magic)");
  CDH_RETURN_IF_ERROR(r.Skip(2));  // version, checked in full by ParseLuks2Metadata
  CDH_ASSIGN_OR_RETURN(const uint64_t hs, r.U64Be());
  if (hs < kMinHdrSize || hs > kMaxHdrSize || !IsPowerOfTwo(hs))
    return Bad(StrCat("header size ", hs, " is out of range"));
  std::string first;
  CDH_RETURN_IF_ERROR(PreadExact(header_fd, first, hs));
  CDH_ASSIGN_OR_RETURN(json j, ParseJsonArea(first, 0, hs));
  auto config = j.find("config");
  if (config == j.end() || !config->is_object() || !config->contains("keyslots_size")) {
    return Bad("config.keyslots_size is missing");
  }
  CDH_ASSIGN_OR_RETURN(uint64_t ks, ParseDecimal((*config)["keyslots_size"], "config.keyslots_size"));
  if (ks > limits.max_keyslots_size || ks % 4096 != 0)
    return Bad(StrCat("config.keyslots_size ", ks, " is not allowed"));
  std::string region;
  CDH_RETURN_IF_ERROR(PreadExact(header_fd, region, 2 * hs + ks));
  return ParseLuks2Metadata(std::move(region), device_size, detached, limits);
}

}  // namespace cdh::storage
