#include "attestation/tdx_quote.h"

#include "common/byte_reader.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace cdh::attestation {
namespace {

absl::Status Bad(std::string_view why) { return absl::FailedPreconditionError(StrCat("tdx: quote ", why)); }

absl::Status Check(std::string_view quote, std::string_view report_data) {
  ByteReader r(quote, "TD quote");
  CDH_ASSIGN_OR_RETURN(uint16_t version, r.U16Le());
  CDH_RETURN_IF_ERROR(r.Skip(2));  // attestation key type
  CDH_ASSIGN_OR_RETURN(uint32_t tee_type, r.U32Le());
  if (version != 4 && version != 5) return Bad(StrCat("version ", version, " is not 4 or 5"));
  if (tee_type != kTdxTeeType) return Bad(StrCat("TEE type ", tee_type, " is not TDX (0x81 = 129)"));
  CDH_RETURN_IF_ERROR(r.Seek(kTdxQuoteHeaderSize));
  size_t body_size = kTdReport10BodySize;
  if (version == 5) {
    CDH_ASSIGN_OR_RETURN(uint16_t body_type, r.U16Le());
    CDH_ASSIGN_OR_RETURN(uint32_t declared, r.U32Le());
    if (body_type == 2) {
      body_size = kTdReport10BodySize;
    } else if (body_type == 3) {
      body_size = kTdReport15BodySize;
    } else {
      return Bad(StrCat("v5 body type ", body_type, " is not a TD report (2 or 3)"));
    }
    if (declared != body_size) return Bad(StrCat("v5 body of type ", body_type, " declares ", declared, " bytes"));
  }
  CDH_ASSIGN_OR_RETURN(ByteReader body, r.Sub(body_size));
  CDH_ASSIGN_OR_RETURN(ByteReader rd, body.Slice(kTdReportBodyReportDataOffset, 64));
  CDH_ASSIGN_OR_RETURN(std::string_view got, rd.Bytes(64));
  CDH_ASSIGN_OR_RETURN(uint32_t signature_size, r.U32Le());
  CDH_RETURN_IF_ERROR(r.Skip(signature_size));
  CDH_RETURN_IF_ERROR(r.ExpectEnd());
  if (got != report_data) return Bad("REPORTDATA differs from the report data we asked for");
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckTdxQuote(std::string_view quote, std::string_view report_data) {
  absl::Status s = Check(quote, report_data);
  // A truncated or overlong quote (the ByteReader's INVALID_ARGUMENT) is the platform's fault too.
  if (!s.ok() && s.code() != absl::StatusCode::kFailedPrecondition) {
    return absl::FailedPreconditionError(
        StrCat("tdx: quote of ", quote.size(), " bytes is malformed: ", ToStd(s.message())));
  }
  return s;
}

}  // namespace cdh::attestation
