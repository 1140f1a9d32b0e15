#include "attestation/hcl_report.h"

#include "attestation/snp_report.h"
#include "common/base64.h"
#include "common/byte_reader.h"
#include "common/json.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "crypto/hash.h"
#include "crypto/rsa_pkcs1.h"

namespace cdh::attestation {
absl::StatusOr<HclReport> ParseHclReport(std::string_view bytes) {
  auto bad = [](std::string_view why) { return absl::InvalidArgumentError(StrCat("HCL report: ", why)); };
  if (bytes.size() < kHclVarDataOffset) return bad("shorter than its fixed header");
  ByteReader r(bytes, "HCL report");
  CDH_ASSIGN_OR_RETURN(std::string_view signature, r.Bytes(4));
  if (signature != "HCLA") return bad("signature is not HCLA");
  CDH_ASSIGN_OR_RETURN(ByteReader hardware_area, r.Slice(kHclHardwareReportOffset, kHclHardwareReportArea));
  CDH_RETURN_IF_ERROR(r.Seek(kHclHardwareReportOffset + kHclHardwareReportArea + 8));  // IGVM data size, version
  CDH_ASSIGN_OR_RETURN(uint32_t type, r.U32Le());
  CDH_ASSIGN_OR_RETURN(uint32_t hash_type, r.U32Le());
  CDH_ASSIGN_OR_RETURN(uint32_t var_size, r.U32Le());
  HclReport out;
  size_t report_data_at;
  if (type == static_cast<uint32_t>(HclReportType::kSnp)) {
    out.type = HclReportType::kSnp;
    out.hardware_report = std::string(hardware_area.Rest());
    report_data_at = kSnpReportDataOffset;
  } else if (type == static_cast<uint32_t>(HclReportType::kTdx)) {
    out.type = HclReportType::kTdx;
    CDH_ASSIGN_OR_RETURN(std::string_view td_report, hardware_area.Bytes(kTdReportSize));
    out.hardware_report = std::string(td_report);
    report_data_at = kTdReportReportDataOffset;
  } else {
    return bad(StrCat("unknown report type ", type));
  }
  CDH_ASSIGN_OR_RETURN(ByteReader report_data,
                       ByteReader(out.hardware_report, "HCL hardware report").Slice(report_data_at, 64));
  out.hardware_report_data = std::string(report_data.Rest());
  if (hash_type != 1) return bad(StrCat("report data hash type ", hash_type, " is not SHA-256 (1)"));
  absl::StatusOr<std::string_view> var_data = r.Bytes(var_size);
  if (!var_data.ok()) return bad("variable data runs past the report");
  out.var_data = std::string(*var_data);
  return out;
}

absl::StatusOr<std::string> HclAkPublicSpki(std::string_view var_data) {
  absl::StatusOr<nlohmann::json> j = ParseJson(var_data, "HCL variable data");
  if (!j.ok()) return j.status();
  if (!j->is_object() || !j->contains("keys") || !(*j)["keys"].is_array()) {
    return absl::InvalidArgumentError("HCL variable data has no `keys` array");
  }
  for (const auto& k : (*j)["keys"]) {
    if (!k.is_object() || k.value("kid", "") != "HCLAkPub") continue;
    if (k.value("kty", "") != "RSA" || !k.contains("n") || !k.contains("e") || !k["n"].is_string() ||
        !k["e"].is_string()) {
      return absl::InvalidArgumentError("HCLAkPub is not an RSA JWK");
    }
    absl::StatusOr<std::string> n = Base64UrlDecode(k["n"].get<std::string>());
    absl::StatusOr<std::string> e = Base64UrlDecode(k["e"].get<std::string>());
    if (!n.ok() || !e.ok()) return absl::InvalidArgumentError("HCLAkPub n/e are not base64url");
    return crypto::RsaSpkiFromModulusExponent(*n, *e);
  }
  return absl::InvalidArgumentError("HCL variable data has no HCLAkPub key");
}

}  // namespace cdh::attestation
