#include "attestation/cc_eventlog.h"

#include <cstdint>

#include "common/byte_reader.h"
#include "common/byte_writer.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace cdh::attestation {
namespace {

// Digest size, in bytes, of a TCG algorithm id; 0 when unknown.
size_t DigestSize(uint16_t alg) {
  switch (alg) {
    case 0x0b:
      return 32;  // sha256
    case 0x0c:
      return 48;  // sha384
    case 0x0d:
      return 64;  // sha512
    case 0x12:
      return 32;  // sm3_256
    default:
      return 0;
  }
}

// Reads events up to the end marker; returns the offset of the marker.
absl::StatusOr<size_t> FindCcelEnd(ByteReader& r) {
  CDH_RETURN_IF_ERROR(r.Skip(4));  // PCR index
  CDH_ASSIGN_OR_RETURN(uint32_t type, r.U32Le());
  CDH_RETURN_IF_ERROR(r.Skip(20));  // SHA1 digest
  if (type == 3) {                  // SHA1-format EV_NO_ACTION header
    CDH_ASSIGN_OR_RETURN(uint32_t size, r.U32Le());
    CDH_RETURN_IF_ERROR(r.Skip(size));
  }
  for (;;) {
    size_t at = r.offset();
    CDH_ASSIGN_OR_RETURN(std::string_view flag, r.Bytes(8));  // or MR index and event type
    if (flag == std::string_view("\xff\xff\xff\xff\xff\xff\xff\xff", 8) ||
        flag == std::string_view("\0\0\0\0\0\0\0\0", 8)) {
      return at;
    }
    CDH_ASSIGN_OR_RETURN(uint32_t count, r.U32Le());
    for (uint32_t i = 0; i < count; ++i) {
      CDH_ASSIGN_OR_RETURN(uint16_t alg, r.U16Le());
      size_t len = DigestSize(alg);
      if (len == 0) return absl::InvalidArgumentError(StrCat("CCEL: unsupported digest algorithm ", alg));
      CDH_RETURN_IF_ERROR(r.Skip(len));
    }
    CDH_ASSIGN_OR_RETURN(uint32_t size, r.U32Le());
    CDH_RETURN_IF_ERROR(r.Skip(size));
  }
}

}  // namespace

std::string CcEventlogHeader() {
  std::string h;
  AppendU32Le(h, 0);     // PCR index
  AppendU32Le(h, 3);     // EV_NO_ACTION
  h.append(20, '\0');    // SHA1 digest (unused)
  AppendU32Le(h, 37);    // event size
  h.append(16, '\0');    // spec-ID signature: all zero (as upstream)
  AppendU32Le(h, 0);     // platform class
  h.append(4, '\0');     // spec version minor, major, errata, uintn size
  AppendU32Le(h, 2);     // number of algorithms
  AppendU16Le(h, 0x0c);  // sha384
  AppendU16Le(h, 48);
  AppendU16Le(h, 0x12);  // sm3_256
  AppendU16Le(h, 32);
  h.push_back('\0');  // vendor info size
  return h;
}

absl::StatusOr<std::string> TrimCcel(std::string_view ccel) {
  ByteReader r(ccel, "CCEL");
  absl::StatusOr<size_t> end = FindCcelEnd(r);
  if (!end.ok()) return Annotate(end.status(), "invalid CCEL");
  return std::string(ccel.substr(0, *end));
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
