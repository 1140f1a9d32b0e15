// TdxQuoteCheck: checks a TD quote the quote service produced for us before it is sent as
// evidence (Intel TDX DCAP Quoting Library API, "Quote Format" for versions 4 and 5; the layout
// upstream's verifier parses: guest-components attestation-agent/attester/src/tdx/, Trustee
// deps/verifier/src/tdx/quote.rs).
//
// Layout checked (little-endian):
//   header, 48 bytes: version u16 (4 or 5), attestation key type u16, TEE type u32 (0x81 = TDX),
//     reserved 4, QE vendor id 16, user data 20;
//   v4: the TD report body (TD report 1.0, 584 bytes) follows the header;
//   v5: a body descriptor follows the header: type u16 (2 = TD report 1.0, 584 bytes; 3 = TD
//     report 1.5, 648 bytes; 1 = an SGX enclave report, refused) and size u32, then the body;
//   then the signature data length u32 and exactly that many bytes (nothing after them).
// REPORTDATA is the last 64 bytes of the first 584 of the body (offset 520) and must equal the
// 64 bytes we wrote into `inblob`.
// Thread-safe (pure functions).
#ifndef CDH_ATTESTATION_TDX_QUOTE_H_
#define CDH_ATTESTATION_TDX_QUOTE_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "absl/status/status.h"

namespace cdh::attestation {

inline constexpr size_t kTdxQuoteHeaderSize = 48;
inline constexpr size_t kTdReport10BodySize = 584;  // TD report 1.0 (TDX 1.0)
inline constexpr size_t kTdReport15BodySize = 648;  // TD report 1.5 (TDX 1.5: + TEE_TCB_SVN2, MRSERVICETD)
inline constexpr size_t kTdReportBodyReportDataOffset = 520;
inline constexpr uint32_t kTdxTeeType = 0x81;

// OK when `quote` is a v4 or v5 TD quote of consistent size whose REPORTDATA equals
// `report_data` (64 bytes). FAILED_PRECONDITION otherwise, naming what is wrong (size, version,
// TEE type, body type, signature length, report data): the quote service gave us evidence that
// is not what we asked for, which is a fault of the platform, not of our caller
// (docs/errors.md); such evidence is never sent.
absl::Status CheckTdxQuote(std::string_view quote, std::string_view report_data);

}  // namespace cdh::attestation

#endif  // CDH_ATTESTATION_TDX_QUOTE_H_
