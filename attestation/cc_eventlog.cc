#include "attestation/cc_eventlog.h"

#include <cstdint>

#include "common/strings.h"

namespace cdh::attestation {
namespace {

void PutU16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v & 0xff));
  out.push_back(static_cast<char>(v >> 8));
}
void PutU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

bool GetU32(std::string_view b, size_t at, uint32_t& v) {
  if (at > b.size() || b.size() - at < 4) return false;
  v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(b[at + i]);
  return true;
}

}  // namespace

std::string CcEventlogHeader() {
  std::string h;
  PutU32(h, 0);                  // PCR index
  PutU32(h, 3);                  // EV_NO_ACTION
  h.append(20, '\0');            // SHA1 digest (unused)
  PutU32(h, 37);                 // event size
  h.append(16, '\0');            // spec-ID signature: all zero (as upstream)
  PutU32(h, 0);                  // platform class
  h.append(4, '\0');             // spec version minor, major, errata, uintn size
  PutU32(h, 2);                  // number of algorithms
  PutU16(h, 0x0c);               // sha384
  PutU16(h, 48);
  PutU16(h, 0x12);               // sm3_256
  PutU16(h, 32);
  h.push_back('\0');             // vendor info size
  return h;
}

absl::StatusOr<std::string> TrimCcel(std::string_view ccel) {
  auto bad = [](std::string_view why) { return absl::InvalidArgumentError(StrCat("invalid CCEL: ", why)); };
  size_t at = 4;
  uint32_t type;
  if (!GetU32(ccel, at, type)) return bad("too short for the first event");
  at += 4 + 20;
  if (type == 3) {  // SHA1-format EV_NO_ACTION header
    uint32_t size;
    if (!GetU32(ccel, at, size)) return bad("truncated header event");
    at += 4;
    if (size > ccel.size() - at) return bad("header event overruns the table");
    at += size;
  }
  for (;;) {
    if (ccel.size() - at < 8) return bad("no end marker");
    std::string_view flag = ccel.substr(at, 8);
    if (flag == std::string_view("\xff\xff\xff\xff\xff\xff\xff\xff", 8) || flag == std::string_view("\0\0\0\0\0\0\0\0", 8)) {
      return std::string(ccel.substr(0, at));
    }
    at += 8;  // MR index, event type
    uint32_t count;
    if (!GetU32(ccel, at, count)) return bad("truncated digest count");
    at += 4;
    for (uint32_t i = 0; i < count; ++i) {
      if (ccel.size() - at < 2) return bad("truncated digest algorithm");
      uint16_t alg = static_cast<uint16_t>(static_cast<uint8_t>(ccel[at]) | (static_cast<uint8_t>(ccel[at + 1]) << 8));
      at += 2;
      size_t len;
      switch (alg) {
        case 0x0b: len = 32; break;
        case 0x0c: len = 48; break;
        case 0x0d: len = 64; break;
        case 0x12: len = 32; break;
        default: return bad(StrCat("unsupported digest algorithm ", alg));
      }
      if (ccel.size() - at < len) return bad("truncated digest");
      at += len;
    }
    uint32_t size;
    if (!GetU32(ccel, at, size)) return bad("truncated event size");
    at += 4;
    if (size > ccel.size() - at) return bad("event overruns the table");
    at += size;
  }
}

absl::StatusOr<std::optional<std::string>> BuildCcEventlog(const std::optional<std::string>& ccel,
                                                           const std::optional<std::string>& runtime_log) {
  std::string log;
  if (ccel.has_value()) {
    absl::StatusOr<std::string> trimmed = TrimCcel(*ccel);
    if (!trimmed.ok()) return trimmed.status();
    log = std::move(trimmed).value();
  }
  if (runtime_log.has_value()) {
    if (log.empty()) log = CcEventlogHeader();
    log += *runtime_log;
  }
  if (log.empty()) return std::optional<std::string>();
  log.append(8, '\xff');
  return std::optional<std::string>(std::move(log));
}

}  // namespace cdh::attestation
