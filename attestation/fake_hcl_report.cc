#include "attestation/fake_hcl_report.h"

#include <cctype>

#include "attestation/snp_report.h"
#include "common/base64.h"
#include "common/byte_writer.h"
#include "crypto/hash.h"
#include "nlohmann/json.hpp"

namespace cdh::attestation {

std::string BuildFakeHclReport(HclReportType type, std::string hardware_report, std::string_view ak_n,
                               std::string_view ak_e, std::string_view user_data) {
  std::string padded(user_data);
  padded.resize(64, '\0');
  std::string hex = crypto::HexEncode(padded);
  for (char& c : hex) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  nlohmann::json var = {
      {"keys", nlohmann::json::array({{{"kid", "HCLAkPub"},
                                       {"key_ops", {"sign"}},
                                       {"kty", "RSA"},
                                       {"e", Base64UrlEncode(ak_e)},
                                       {"n", Base64UrlEncode(ak_n)}}})},
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
