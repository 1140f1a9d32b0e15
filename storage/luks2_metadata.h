// LUKS2 metadata: read once into guest memory, validated against an allow-list, then used only
// from that copy: the host controls the device and may change it between two reads (cdh-api.md §11).
//
// LUKS2 on-disk layout (all offsets in bytes from the start of the header device):
//   [0, hdr_size)                   primary binary header (4096 bytes) + JSON area
//   [hdr_size, 2*hdr_size)          secondary copy (magic "SKUL\xba\xbe")
//   [2*hdr_size, 2*hdr_size+keyslots_size)  keyslot areas (anti-forensic split volume keys)
//   data segment at segments.0.offset
// The "metadata region" is the first 2*hdr_size + keyslots_size bytes: Luks2Metadata::bytes.
//
// Allow-list (refused with INVALID_ARGUMENT naming the field, before any key derivation):
//  - both binary headers: magic, version 2, hdr_size in 16 KiB..4 MiB (power of two), sha256
//    checksum correct, hdr_offset matching; primary and secondary JSON areas, seqid and uuid
//    identical (a host editing one copy is refused, not "repaired");
//  - exactly one segment "0": type crypt, encryption aes-xts-plain64, sector_size 512 or 4096,
//    iv_tweak "0", no flags; integrity absent or exactly {"type":"hmac(sha256)",
//    "journal_encryption":"none","journal_integrity":"none"} (what `cryptsetup luksFormat
//    --integrity hmac-sha256` writes; the volume key then ends with the 32-byte HMAC key); offset sector-aligned, at or
//    past the metadata region (or 0 with a detached header), offset+size inside the device;
//  - keyslots: type luks2, key_size 32 or 64 bytes (+32 with integrity; equal to every other), af luks1 with 4000
//    stripes and sha256/sha512, area raw aes-xts-plain64 (32/64-byte key), lying inside the
//    keyslot region and at least key_size*stripes bytes long; kdf pbkdf2 (sha256/sha512) or
//    argon2i/argon2id with costs under Luks2Limits;
//  - digests pbkdf2 with bounded iterations, naming existing keyslots and segment 0;
//  - config: json_size = hdr_size - 4096, keyslots_size a multiple of 4096 within limits,
//    no mandatory requirements (e.g. an unfinished online re-encryption).
// Tokens are ignored (never run): unlocking uses keyslots only.
#ifndef CDH_STORAGE_LUKS2_METADATA_H_
#define CDH_STORAGE_LUKS2_METADATA_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"

namespace cdh::storage {

// Bounds on costs a host-supplied header may ask for. Defaults fit cryptsetup's
// own defaults (argon2id 1 GiB / a few iterations; pbkdf2 ~ 2 s worth) with headroom.
struct Luks2Limits {
  uint64_t max_pbkdf2_iterations = 10'000'000;
  uint32_t max_argon2_time = 64;                 // iterations
  uint32_t max_argon2_memory_kib = 1024 * 1024;  // KiB (1 GiB)
  uint32_t max_argon2_cpus = 4;
  uint64_t max_keyslots_size = 128ull << 20;  // bytes (LUKS2's own maximum)
  int max_keyslots = 32;
};

// The validated metadata region and the facts the data path needs. Copyable value type.
struct Luks2Metadata {
  std::string bytes;                  // the metadata region exactly as validated (2*hdr_size + keyslots_size bytes)
  uint64_t hdr_size = 0;              // bytes, binary header + JSON area of one copy
  uint64_t keyslots_size = 0;         // bytes
  uint64_t data_offset = 0;           // bytes from the start of the data device
  std::optional<uint64_t> data_size;  // bytes; nullopt = "dynamic" (to the end of the device)
  uint32_t sector_size = 0;           // bytes: 512 or 4096
  uint32_t key_size = 0;              // volume key bytes: 32 or 64 (AES-XTS) + integrity_key_size
  std::string integrity;              // "" (none) or "hmac(sha256)": the segment is dm-integrity protected
  uint32_t integrity_key_size = 0;    // bytes of the volume key that key the integrity tags (0 or 32)
  int keyslots = 0;                   // number of keyslots
  std::string uuid;
};

// Validates `region` (the first bytes of a header device, at least the metadata region; extra
// bytes are dropped) for a data device of `device_size` bytes. `detached` = the header is not on
// the data device (data offset 0 allowed). INVALID_ARGUMENT naming the offending field.
absl::StatusOr<Luks2Metadata> ParseLuks2Metadata(std::string region, uint64_t device_size, bool detached,
                                                 const Luks2Limits& limits);

// Reads the metadata region from `header_fd` (bounded reads, sizes learnt from the primary
// header, at most 2*4 MiB + max_keyslots_size bytes) and validates the copy with
// ParseLuks2Metadata. INVALID_ARGUMENT for a bad header ("not a LUKS2 device" when the magic is
// absent); UNAVAILABLE for I/O errors.
absl::StatusOr<Luks2Metadata> ReadLuks2Metadata(int header_fd, uint64_t device_size, bool detached,
                                                const Luks2Limits& limits);

}  // namespace cdh::storage

#endif  // CDH_STORAGE_LUKS2_METADATA_H_
