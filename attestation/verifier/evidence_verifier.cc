#include "attestation/verifier/evidence_verifier.h"

#include <cstdio>

#include "absl/strings/escaping.h"
#include "attestation/hcl_report.h"
#include "attestation/snp_report.h"
#include "attestation/tpm/tpm_structures.h"
#include "common/base64.h"
#include "common/byte_reader.h"
#include "common/json.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "crypto/hash.h"
#include "crypto/rsa_pkcs1.h"

namespace cdh::attestation {
namespace {

// TD quote v4: 48-byte header + TD report body, report_data at body offset 520 (attesters.md §3.3);
// v5 inserts a 6-byte body descriptor.
constexpr size_t kTdQuoteV4ReportDataOffset = 568;

absl::Status Fail(std::string_view tee, std::string_view check) {
  return absl::UnauthenticatedError(StrCat(tee, " evidence: ", check));
}
absl::Status Malformed(std::string_view tee, std::string_view what) {
  return absl::InvalidArgumentError(StrCat(tee, " evidence: ", what));
}

bool IsLowerHex(std::string_view s) {
  if (s.size() % 2 != 0) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  }
  return true;
}

absl::StatusOr<std::string> Hex(std::string_view tee, const nlohmann::json& v, std::string_view what) {
  if (!v.is_string() || !IsLowerHex(v.get<std::string>())) return Malformed(tee, StrCat(what, " is not hex"));
  std::string s = v.get<std::string>();
  return absl::HexStringToBytes(absl::string_view(s.data(), s.size()));
}

// base64url with or without '=' padding.
absl::StatusOr<std::string> B64Url(std::string_view tee, const nlohmann::json& v, std::string_view what) {
  if (!v.is_string()) return Malformed(tee, StrCat(what, " is not a string"));
  std::string s = v.get<std::string>();
  while (!s.empty() && s.back() == '=') s.pop_back();
  absl::StatusOr<std::string> d = Base64UrlDecode(s);
  if (!d.ok()) return Malformed(tee, StrCat(what, " is not base64url"));
  return d;
}

// Checks shared by the TPM-backed TEEs: signature-independent quote checks, PCR list, PCR 8.
absl::StatusOr<TpmQuoteAttest> CheckQuoteAndPcrs(std::string_view tee, std::string_view message,
                                                 const std::vector<std::string>& pcrs,
                                                 const std::optional<std::string>& init_data_digest,
                                                 nlohmann::json& claims) {
  absl::StatusOr<TpmQuoteAttest> attest = ParseTpmQuoteAttest(message);
  if (!attest.ok()) return Malformed(tee, ToStd(attest.status().message()));
  if (!SelectsAllSha256Pcrs(attest->pcr_select)) return Fail(tee, "the quote does not cover sha256 PCRs 0-23");
  if (pcrs.size() != 24) return Malformed(tee, "`pcrs` must list 24 PCRs");
  std::string concat;
  for (size_t i = 0; i < pcrs.size(); ++i) {
    if (pcrs[i].size() != 32) return Malformed(tee, "every PCR must be 32 bytes (64 hex characters)");
    concat += pcrs[i];
    char name[8];
    std::snprintf(name, sizeof name, "pcr%02zu", i);
    claims[name] = crypto::HexEncode(pcrs[i]);
  }
  if (crypto::Sha256(concat) != attest->pcr_digest)
    return Fail(tee, "the PCR list does not match the quote's pcrDigest");
  if (init_data_digest.has_value()) {
    if (pcrs[8] != crypto::Sha256(std::string(32, '\0') + *init_data_digest)) {
      return Fail(tee, "PCR 8 does not hold the init data binding");
    }
    claims["init_data"] = crypto::HexEncode(pcrs[8]);
  }
  claims["report_data"] = crypto::HexEncode(attest->extra_data);
  return attest;
}

absl::StatusOr<std::vector<std::string>> PcrList(std::string_view tee, const nlohmann::json& quote) {
  if (!quote.contains("pcrs") || !quote["pcrs"].is_array()) return Malformed(tee, "`tpm_quote.pcrs` is missing");
  std::vector<std::string> out;
  for (const auto& p : quote["pcrs"]) {
    if (!p.is_string() || p.get<std::string>().size() != 64)
      return Malformed(tee, "every PCR must be 64 hex characters");
    CDH_ASSIGN_OR_RETURN(std::string b, Hex(tee, p, "a PCR"));
    out.push_back(std::move(b));
  }
  return out;
}

class TpmVerifier : public EvidenceVerifier {
 public:
  explicit TpmVerifier(std::vector<std::string> trusted) : trusted_(std::move(trusted)) {}

  absl::StatusOr<nlohmann::json> Verify(const nlohmann::json& ev, std::string_view expected,
                                        const std::optional<std::string>& init) const override {
    constexpr std::string_view kTee = "tpm";
    if (!ev.is_object() || !ev.contains("tpm_quote") || !ev["tpm_quote"].is_object() || !ev.contains("ak_public") ||
        !ev["ak_public"].is_string()) {
      return Malformed(kTee, "expected {tpm_quote, ak_public}");
    }
    const auto& q = ev["tpm_quote"];
    if (!q.contains("signature") || !q["signature"].is_string() || !q.contains("message") ||
        !q["message"].is_string()) {
      return Malformed(kTee, "`tpm_quote` needs `signature` and `message`");
    }
    absl::StatusOr<std::string> sig = Base64StdDecode(q["signature"].get<std::string>());
    absl::StatusOr<std::string> msg = Base64StdDecode(q["message"].get<std::string>());
    absl::StatusOr<std::string> ak = Base64StdDecode(ev["ak_public"].get<std::string>());
    if (!sig.ok() || !msg.ok() || !ak.ok()) return Malformed(kTee, "signature, message and ak_public must be base64");
    absl::StatusOr<std::string> raw_sig = ParseTpmRsassaSha256Signature(*sig);
    if (!raw_sig.ok()) return Malformed(kTee, ToStd(raw_sig.status().message()));
    if (!trusted_.empty() && std::find(trusted_.begin(), trusted_.end(), *ak) == trusted_.end()) {
      return Fail(kTee, "the AK is not trusted");
    }
    absl::Status verified = crypto::VerifyRsaPkcs1Sha256(*ak, *msg, *raw_sig);
    if (verified.code() == absl::StatusCode::kInvalidArgument) return Malformed(kTee, ToStd(verified.message()));
    if (!verified.ok()) return Fail(kTee, "the quote signature does not verify with ak_public");
    CDH_ASSIGN_OR_RETURN(std::vector<std::string> pcrs, PcrList(kTee, q));
    nlohmann::json claims;
    CDH_ASSIGN_OR_RETURN(TpmQuoteAttest attest, CheckQuoteAndPcrs(kTee, *msg, pcrs, init, claims));
    std::string want(expected.substr(0, 32));
    want.resize(32, '\0');
    if (attest.extra_data != want) return Fail(kTee, "extraData does not match the report data (nonce)");
    claims["ak_public"] = ev["ak_public"];
    return claims;
  }

 private:
  std::vector<std::string> trusted_;
};

class AzVtpmVerifier : public EvidenceVerifier {
 public:
  explicit AzVtpmVerifier(HclReportType type) : type_(type) {}

  absl::StatusOr<nlohmann::json> Verify(const nlohmann::json& ev, std::string_view expected,
                                        const std::optional<std::string>& init) const override {
    std::string_view tee = type_ == HclReportType::kTdx ? "az-tdx-vtpm" : "az-snp-vtpm";
    const char* hw_member = type_ == HclReportType::kTdx ? "td_quote" : "vcek";
    if (!ev.is_object() || !ev.contains("tpm_quote") || !ev["tpm_quote"].is_object() || !ev.contains("hcl_report") ||
        !ev.contains(hw_member)) {
      return Malformed(tee, StrCat("expected {version, tpm_quote, hcl_report, ", hw_member, "}"));
    }
    int version = ev.contains("version") && ev["version"].is_number_integer() ? ev["version"].get<int>() : 0;
    if (version < 1) return Malformed(tee, "only evidence versions 1 and 2 are accepted");
    const auto& q = ev["tpm_quote"];
    CDH_ASSIGN_OR_RETURN(std::string msg, Hex(tee, q.value("message", nlohmann::json()), "tpm_quote.message"));
    CDH_ASSIGN_OR_RETURN(std::string sig, Hex(tee, q.value("signature", nlohmann::json()), "tpm_quote.signature"));
    CDH_ASSIGN_OR_RETURN(std::string hcl_bytes, B64Url(tee, ev["hcl_report"], "hcl_report"));
    absl::StatusOr<HclReport> hcl = ParseHclReport(hcl_bytes);
    if (!hcl.ok()) return Malformed(tee, ToStd(hcl.status().message()));
    if (hcl->type != type_) return Fail(tee, "the HCL report is of the other TEE type");
    absl::StatusOr<std::string> ak = HclAkPublicSpki(hcl->var_data);
    if (!ak.ok()) return Malformed(tee, ToStd(ak.status().message()));
    // (1)
    absl::Status verified = crypto::VerifyRsaPkcs1Sha256(*ak, msg, sig);
    if (!verified.ok()) return Fail(tee, "the quote signature does not verify with HCLAkPub");
    // (2), (3), PCR 8
    CDH_ASSIGN_OR_RETURN(std::vector<std::string> pcrs, PcrList(tee, q));
    nlohmann::json claims;
    CDH_ASSIGN_OR_RETURN(TpmQuoteAttest attest, CheckQuoteAndPcrs(tee, msg, pcrs, init, claims));
    if (attest.extra_data != expected) return Fail(tee, "extraData does not match the report data (nonce)");
    // (4)
    std::string var_hash = crypto::Sha256(hcl->var_data);
    if (type_ == HclReportType::kTdx) {
      CDH_ASSIGN_OR_RETURN(std::string quote, B64Url(tee, ev["td_quote"], "td_quote"));
      if (quote.size() < 48 + 584) return Malformed(tee, "td_quote is too short");
      ByteReader q(quote, "td_quote");
      CDH_ASSIGN_OR_RETURN(uint16_t qv, q.U16Le());
      size_t rd_at;
      if (qv == 4) {
        rd_at = kTdQuoteV4ReportDataOffset;
      } else if (qv == 5) {
        rd_at = kTdQuoteV4ReportDataOffset + 6;
      } else {
        return Fail(tee, "the TD quote is not version 4 or 5");
      }
      absl::StatusOr<ByteReader> report_data = q.Slice(rd_at, 64);
      if (!report_data.ok()) return Malformed(tee, "td_quote is too short");
      CDH_ASSIGN_OR_RETURN(std::string_view bound, report_data->Bytes(32));
      if (bound != var_hash) return Fail(tee, "the TD quote does not bind the HCL variable data");
    } else {
      ByteReader snp(hcl->hardware_report, "SNP report");
      CDH_ASSIGN_OR_RETURN(ByteReader vmpl_field, snp.Slice(0x30, 4));
      CDH_ASSIGN_OR_RETURN(uint32_t vmpl, vmpl_field.U32Le());
      if (hcl->hardware_report_data.substr(0, 32) != var_hash) {
        return Fail(tee, "the SNP report does not bind the HCL variable data");
      }
      if (vmpl != 0) return Fail(tee, "the SNP report is not from VMPL 0");
      CDH_ASSIGN_OR_RETURN(std::string vcek, B64Url(tee, ev["vcek"], "vcek"));
      (void)vcek;  // chain and report signature checks need AMD's roots (not here)
    }
    // (5)
    if (version >= 2) {
      absl::StatusOr<nlohmann::json> var = ParseJson(hcl->var_data, "HCL variable data");
      if (!var.ok() || !var->is_object() || !var->contains("user-data")) {
        return Fail(tee, "the HCL variable data has no user-data");
      }
      CDH_ASSIGN_OR_RETURN(std::string user, Hex(tee, (*var)["user-data"], "user-data"));
      if (user.substr(0, expected.size()) != expected)
        return Fail(tee, "HCL user-data does not start with the report data");
    }
    return claims;
  }

 private:
  HclReportType type_;
};

}  // namespace

std::unique_ptr<EvidenceVerifier> NewTpmVerifier(std::vector<std::string> trusted_aks) {
  return std::make_unique<TpmVerifier>(std::move(trusted_aks));
}
std::unique_ptr<EvidenceVerifier> NewAzTdxVtpmVerifier() {
  return std::make_unique<AzVtpmVerifier>(HclReportType::kTdx);
}
std::unique_ptr<EvidenceVerifier> NewAzSnpVtpmVerifier() {
  return std::make_unique<AzVtpmVerifier>(HclReportType::kSnp);
}

std::map<std::string, std::shared_ptr<EvidenceVerifier>> DevelopmentVerifiers() {
  return {{"tpm", NewTpmVerifier()}, {"az-tdx-vtpm", NewAzTdxVtpmVerifier()}, {"az-snp-vtpm", NewAzSnpVtpmVerifier()}};
}

}  // namespace cdh::attestation
