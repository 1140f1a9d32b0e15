#include "attestation/tpm/tpm_structures.h"

#include "common/strings.h"

namespace cdh::attestation {
namespace {

class Reader {
 public:
  explicit Reader(std::string_view b) : b_(b) {}
  bool U8(uint8_t& v) {
    if (b_.size() - at_ < 1) return false;
    v = static_cast<uint8_t>(b_[at_++]);
    return true;
  }
  bool U16(uint16_t& v) { return Be(v, 2); }
  bool U32(uint32_t& v) { return Be(v, 4); }
  bool U64(uint64_t& v) { return Be(v, 8); }
  bool Bytes(size_t n, std::string& out) {
    if (b_.size() - at_ < n) return false;
    out.assign(b_.substr(at_, n));
    at_ += n;
    return true;
  }
  bool Tpm2b(std::string& out) {
    uint16_t n;
    return U16(n) && Bytes(n, out);
  }
  bool AtEnd() const { return at_ == b_.size(); }

 private:
  template <typename T>
  bool Be(T& v, int n) {
    if (b_.size() - at_ < static_cast<size_t>(n)) return false;
    v = 0;
    for (int i = 0; i < n; ++i) v = static_cast<T>((v << 8) | static_cast<uint8_t>(b_[at_ + i]));
    at_ += n;
    return true;
  }
  std::string_view b_;
  size_t at_ = 0;
};

}  // namespace

absl::StatusOr<TpmQuoteAttest> ParseTpmQuoteAttest(std::string_view attest) {
  auto bad = [](std::string_view why) { return absl::InvalidArgumentError(StrCat("TPMS_ATTEST: ", why)); };
  Reader r(attest);
  uint32_t magic;
  uint16_t type;
  if (!r.U32(magic) || !r.U16(type)) return bad("truncated header");
  if (magic != kTpmGeneratedValue) return bad("magic is not TPM_GENERATED_VALUE");
  if (type != kTpmStAttestQuote) return bad("not a quote (TPM_ST_ATTEST_QUOTE)");
  TpmQuoteAttest q;
  uint8_t safe;
  if (!r.Tpm2b(q.qualified_signer) || !r.Tpm2b(q.extra_data) || !r.U64(q.clock) || !r.U32(q.reset_count) ||
      !r.U32(q.restart_count) || !r.U8(safe) || !r.U64(q.firmware_version)) {
    return bad("truncated");
  }
  q.safe = safe != 0;
  uint32_t count;
  if (!r.U32(count)) return bad("truncated PCR selection");
  if (count > 16) return bad("too many PCR selections");
  for (uint32_t i = 0; i < count; ++i) {
    TpmPcrSelection s;
    uint8_t size;
    if (!r.U16(s.hash) || !r.U8(size) || !r.Bytes(size, s.select)) return bad("truncated PCR selection");
    q.pcr_select.push_back(std::move(s));
  }
  if (!r.Tpm2b(q.pcr_digest)) return bad("truncated PCR digest");
  if (!r.AtEnd()) return bad("trailing bytes");
  return q;
}

absl::StatusOr<std::string> ParseTpmRsassaSha256Signature(std::string_view signature) {
  Reader r(signature);
  uint16_t alg, hash;
  std::string sig;
  if (!r.U16(alg) || !r.U16(hash) || !r.Tpm2b(sig) || !r.AtEnd()) {
    return absl::InvalidArgumentError("TPMT_SIGNATURE: truncated or trailing bytes");
  }
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
