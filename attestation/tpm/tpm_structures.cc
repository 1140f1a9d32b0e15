#include "attestation/tpm/tpm_structures.h"

#include "common/byte_reader.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace cdh::attestation {
namespace {

// A TPM2B: u16 size, then that many bytes.
absl::StatusOr<std::string> Tpm2b(ByteReader& r) {
  CDH_ASSIGN_OR_RETURN(uint16_t n, r.U16Be());
  CDH_ASSIGN_OR_RETURN(std::string_view b, r.Bytes(n));
  return std::string(b);
}

absl::StatusOr<TpmQuoteAttest> ReadQuoteAttest(ByteReader& r) {
  CDH_ASSIGN_OR_RETURN(uint32_t magic, r.U32Be());
  CDH_ASSIGN_OR_RETURN(uint16_t type, r.U16Be());
  if (magic != kTpmGeneratedValue) return absl::InvalidArgumentError("TPMS_ATTEST: magic is not TPM_GENERATED_VALUE");
  if (type != kTpmStAttestQuote) return absl::InvalidArgumentError("TPMS_ATTEST: not a quote (TPM_ST_ATTEST_QUOTE)");
  TpmQuoteAttest q;
  CDH_ASSIGN_OR_RETURN(q.qualified_signer, Tpm2b(r));
  CDH_ASSIGN_OR_RETURN(q.extra_data, Tpm2b(r));
  CDH_ASSIGN_OR_RETURN(q.clock, r.U64Be());
  CDH_ASSIGN_OR_RETURN(q.reset_count, r.U32Be());
  CDH_ASSIGN_OR_RETURN(q.restart_count, r.U32Be());
  CDH_ASSIGN_OR_RETURN(uint8_t safe, r.U8());
  q.safe = safe != 0;
  CDH_ASSIGN_OR_RETURN(q.firmware_version, r.U64Be());
  CDH_ASSIGN_OR_RETURN(uint32_t count, r.U32Be());
  if (count > 16) return absl::InvalidArgumentError("TPMS_ATTEST: too many PCR selections");
  for (uint32_t i = 0; i < count; ++i) {
    TpmPcrSelection s;
    CDH_ASSIGN_OR_RETURN(s.hash, r.U16Be());
    CDH_ASSIGN_OR_RETURN(uint8_t size, r.U8());
    CDH_ASSIGN_OR_RETURN(std::string_view select, r.Bytes(size));
    s.select = std::string(select);
    q.pcr_select.push_back(std::move(s));
  }
  CDH_ASSIGN_OR_RETURN(q.pcr_digest, Tpm2b(r));
  CDH_RETURN_IF_ERROR(r.ExpectEnd());
  return q;
}

}  // namespace

absl::StatusOr<TpmQuoteAttest> ParseTpmQuoteAttest(std::string_view attest) {
  ByteReader r(attest, "TPMS_ATTEST");
  return ReadQuoteAttest(r);
}

absl::StatusOr<std::string> ParseTpmRsassaSha256Signature(std::string_view signature) {
  ByteReader r(signature, "TPMT_SIGNATURE");
  CDH_ASSIGN_OR_RETURN(uint16_t alg, r.U16Be());
  CDH_ASSIGN_OR_RETURN(uint16_t hash, r.U16Be());
  CDH_ASSIGN_OR_RETURN(std::string sig, Tpm2b(r));
  CDH_RETURN_IF_ERROR(r.ExpectEnd());
  if (alg != kTpmAlgRsassa || hash != kTpmAlgSha256) {
    return absl::InvalidArgumentError("TPMT_SIGNATURE: not RSASSA with SHA-256");
  }
  return sig;
}

bool SelectsAllSha256Pcrs(const std::vector<TpmPcrSelection>& selection) {
  return selection.size() == 1 && selection[0].hash == kTpmAlgSha256 &&
         selection[0].select == std::string("\xff\xff\xff", 3);
}

}  // namespace cdh::attestation
