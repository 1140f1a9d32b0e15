// LUKS2 metadata (storage/luks2_metadata.h): the header a hostile host supplies with an
// encrypted volume, validated by ParseLuks2Metadata before any key derivation.
//
// A mutated binary header almost never keeps its SHA-256 checksum, so the harness recomputes it
// unless told not to; that lets mutations reach the JSON area and the allow-list behind it.
// Input: byte 0 flags (bit 0: raw mode, bit 1: detached header, bit 2: keep the checksums as
// given, bit 3: no zero padding of the keyslot area, bit 4: a small data device), byte 1 the
// header size (16 KiB << (b & 3)), then:
//   JSON mode: the JSON area text; the harness builds both binary headers around it (as
//              cryptsetup writes them) and pads the keyslot area with zeros;
//   raw mode:  the metadata region itself (both headers and the keyslot area).
// The keyslot area limit is 256 KiB here instead of 128 MiB, so padding stays cheap; seeds are
// made with `cryptsetup luksFormat --luks2-keyslots-size 256k`.
#include <cstring>
#include <string>

#include "crypto/hash.h"
#include "fuzz/fuzz_util.h"
#include "storage/luks2_metadata.h"

namespace {

constexpr size_t kBinaryHeaderSize = 4096;
constexpr size_t kChecksumOffset = 448;
constexpr size_t kKeyslotArea = 256 << 10;

void PutU64Be(std::string& s, size_t off, uint64_t v) {
  for (int i = 7; i >= 0; --i) s[off + 7 - i] = static_cast<char>(v >> (8 * i));
}

uint64_t GetU64Be(const std::string& s, size_t off) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(s[off + i]);
  return v;
}

// Recomputes the checksum of the header copy at `off` (hdr_size bytes, checksum field zeroed).
void FixChecksum(std::string& region, size_t off, uint64_t hdr_size) {
  if (hdr_size < kBinaryHeaderSize || off + hdr_size > region.size()) return;
  std::memset(region.data() + off + kChecksumOffset, 0, 64);
  const std::string digest = cdh::crypto::Sha256(std::string_view(region).substr(off, hdr_size));
  std::memcpy(region.data() + off + kChecksumOffset, digest.data(), digest.size());
}

// One binary header as cryptsetup writes it (on-disk-format-luks2 §2), checksum left zero.
void WriteBinaryHeader(std::string& region, size_t off, bool secondary, uint64_t hdr_size) {
  std::memcpy(region.data() + off, secondary ? "SKUL\xba\xbe" : "LUKS\xba\xbe", 6);
  region[off + 6] = 0;
  region[off + 7] = 2;
  PutU64Be(region, off + 8, hdr_size);
  PutU64Be(region, off + 16, 1);  // seqid
  std::memcpy(region.data() + off + 72, "sha256", 6);
  std::memcpy(region.data() + off + 168, "6a3b6d53-4bf2-4c3e-9f1c-8b8f1b1d2e7a", 36);
  PutU64Be(region, off + 256, off);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint8_t flags = data[0];
  const bool raw = flags & 1, detached = flags & 2, keep_checksums = flags & 4, no_padding = flags & 8;
  const uint64_t device_size = (flags & 16) ? (64u << 10) : (1ull << 30);
  const uint64_t hdr_size = (16u << 10) << (data[1] & 3);
  const std::string_view body = cdh::fuzz::AsView(data + 2, size - 2);

  std::string region;
  if (raw) {
    region.assign(body);
    if (!keep_checksums && region.size() >= 16) {
      const uint64_t hs = GetU64Be(region, 8);
      if (hs <= (4u << 20)) {
        FixChecksum(region, 0, hs);
        FixChecksum(region, hs, hs);
      }
    }
    if (!no_padding && region.size() < 2 * hdr_size + kKeyslotArea) region.resize(2 * hdr_size + kKeyslotArea, '\0');
  } else {
    region.assign(2 * hdr_size + (no_padding ? 0 : kKeyslotArea), '\0');
    const std::string_view json = body.substr(0, hdr_size - kBinaryHeaderSize);
    for (size_t off : {size_t{0}, static_cast<size_t>(hdr_size)}) {
      WriteBinaryHeader(region, off, off != 0, hdr_size);
      std::memcpy(region.data() + off + kBinaryHeaderSize, json.data(), json.size());
      if (!keep_checksums) FixChecksum(region, off, hdr_size);
    }
  }
  cdh::storage::Luks2Limits limits;
  limits.max_keyslots_size = kKeyslotArea;
  absl::StatusOr<cdh::storage::Luks2Metadata> md =
      cdh::storage::ParseLuks2Metadata(std::move(region), device_size, detached, limits);
  if (md.ok()) {
    FUZZ_CHECK(md->bytes.size() == 2 * md->hdr_size + md->keyslots_size);
    FUZZ_CHECK(md->sector_size == 512 || md->sector_size == 4096);
    FUZZ_CHECK(detached || md->data_offset >= md->bytes.size());
    FUZZ_CHECK(md->data_offset % md->sector_size == 0);
  }
  return 0;
}
