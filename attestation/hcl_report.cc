#include "attestation/hcl_report.h"

#include "attestation/snp_report.h"
#include "common/base64.h"
#include "common/byte_reader.h"
#include "common/byte_writer.h"
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
  CDH_ASSIGN_OR_RETURN(ByteReader report_data, ByteReader(out.hardware_report, "HCL hardware report").Slice(report_data_at, 64));
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

std::string BuildFakeHclReport(HclReportType type, std::string hardware_report, std::string_view ak_n,
                               std::string_view ak_e, std::string_view user_data) {
  std::string padded(user_data);
  padded.resize(64, '\0');
  std::string hex = crypto::HexEncode(padded);
  for (char& c : hex) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  nlohmann::json var = {
      {"keys", nlohmann::json::array({{{"kid", "HCLAkPub"}, {"key_ops", {"sign"}}, {"kty", "RSA"},
                                       {"e", Base64UrlEncode(ak_e)}, {"n", Base64UrlEncode(ak_n)}}})},
      {"vm-configuration", {{"secure-boot", true}, {"tpm-enabled", true}, {"vmUniqueId", "CDH-TEST-VM"}}},
      {"user-data", hex}};
  std::string var_data = var.dump();
  size_t report_data_at = type == HclReportType::kSnp ? 0x50 : kTdReportReportDataOffset;
  hardware_report.resize(type == HclReportType::kSnp ? kHclHardwareReportArea : kTdReportSize, '\0');
  std::string digest = crypto::Sha256(var_data);
  hardware_report.replace(report_data_at, 32, digest);
  hardware_report.replace(report_data_at + 32, 32, std::string(32, '\0'));
  std::string out(kHclVarDataOffset, '\0');
  out.replace(0, 4, "HCLA");
  StoreLe(out, 4, type == HclReportType::kSnp ? 1 : 2, 4);
  StoreLe(out, 8, static_cast<uint32_t>(32 + 1184 + 20 + var_data.size()), 4);
  StoreLe(out, 12, 2, 4);
  out.replace(kHclHardwareReportOffset, hardware_report.size(), hardware_report);
  StoreLe(out, 1216, static_cast<uint32_t>(20 + var_data.size()), 4);
  StoreLe(out, 1220, 1, 4);
  StoreLe(out, 1224, static_cast<uint32_t>(type), 4);
  StoreLe(out, 1228, 1, 4);
  StoreLe(out, 1232, static_cast<uint32_t>(var_data.size()), 4);
  return out + var_data;
}

}  // namespace cdh::attestation
