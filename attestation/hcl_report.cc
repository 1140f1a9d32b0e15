#include "attestation/hcl_report.h"

#include "common/base64.h"
#include "common/json.h"
#include "common/strings.h"
#include "crypto/hash.h"
#include "crypto/rsa_pkcs1.h"

namespace cdh::attestation {
namespace {

uint32_t Le32(std::string_view b, size_t at) {
  return static_cast<uint32_t>(static_cast<uint8_t>(b[at])) | (static_cast<uint32_t>(static_cast<uint8_t>(b[at + 1])) << 8) |
         (static_cast<uint32_t>(static_cast<uint8_t>(b[at + 2])) << 16) |
         (static_cast<uint32_t>(static_cast<uint8_t>(b[at + 3])) << 24);
}
void PutLe32(std::string& b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

}  // namespace

absl::StatusOr<HclReport> ParseHclReport(std::string_view b) {
  auto bad = [](std::string_view why) { return absl::InvalidArgumentError(StrCat("HCL report: ", why)); };
  if (b.size() < kHclVarDataOffset) return bad("shorter than its fixed header");
  if (b.substr(0, 4) != "HCLA") return bad("signature is not HCLA");
  uint32_t type = Le32(b, 1224);
  uint32_t hash_type = Le32(b, 1228);
  uint32_t var_size = Le32(b, 1232);
  HclReport r;
  if (type == static_cast<uint32_t>(HclReportType::kSnp)) {
    r.type = HclReportType::kSnp;
    r.hardware_report.assign(b.substr(kHclHardwareReportOffset, kHclHardwareReportArea));
    r.hardware_report_data = r.hardware_report.substr(0x50, 64);
  } else if (type == static_cast<uint32_t>(HclReportType::kTdx)) {
    r.type = HclReportType::kTdx;
    r.hardware_report.assign(b.substr(kHclHardwareReportOffset, kTdReportSize));
    r.hardware_report_data = r.hardware_report.substr(kTdReportReportDataOffset, 64);
  } else {
    return bad(StrCat("unknown report type ", type));
  }
  if (hash_type != 1) return bad(StrCat("report data hash type ", hash_type, " is not SHA-256 (1)"));
  if (var_size > b.size() - kHclVarDataOffset) return bad("variable data runs past the report");
  r.var_data.assign(b.substr(kHclVarDataOffset, var_size));
  return r;
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
  PutLe32(out, 4, type == HclReportType::kSnp ? 1 : 2);
  PutLe32(out, 8, static_cast<uint32_t>(32 + 1184 + 20 + var_data.size()));
  PutLe32(out, 12, 2);
  out.replace(kHclHardwareReportOffset, hardware_report.size(), hardware_report);
  PutLe32(out, 1216, static_cast<uint32_t>(20 + var_data.size()));
  PutLe32(out, 1220, 1);
  PutLe32(out, 1224, static_cast<uint32_t>(type));
  PutLe32(out, 1228, 1);
  PutLe32(out, 1232, static_cast<uint32_t>(var_data.size()));
  return out + var_data;
}

}  // namespace cdh::attestation
