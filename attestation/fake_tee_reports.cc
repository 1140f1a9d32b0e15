#include "attestation/fake_tee_reports.h"

#include <cstdint>
#include <cstdlib>

#include "common/byte_writer.h"

namespace cdh::attestation {
namespace {

std::string GuidBytes(const std::string& text) {
  std::string hex;
  for (char c : text) {
    if (c != '-') hex.push_back(c);
  }
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::strtoul(hex.substr(i, 2).c_str(), nullptr, 16)));
  }
  out.resize(16, '\0');
  return out;
}

}  // namespace

std::string FakeTdxQuoteV4(std::string_view report_data, std::string_view mr_config_id, size_t signature_size) {
  std::string q(48 + 584 + 4 + signature_size, '\0');
  StoreLe(q, 0, 4, 2);     // version
  StoreLe(q, 2, 2, 2);     // attestation key type: ECDSA-P256
  StoreLe(q, 4, 0x81, 4);  // TEE type: TDX
  StoreBytes(q, 12, "\x93\x9a\x72\x33\xf7\x9c\x4c\xa9\x94\x0a\x0d\xb3\x95\x7f\x06\x07", 16);  // Intel QE vendor id
  StoreBytes(q, kTdxQuoteV4MrConfigIdOffset, mr_config_id, 48);
  StoreBytes(q, kTdxQuoteV4ReportDataOffset, report_data, 64);
  StoreLe(q, 632, signature_size, 4);
  for (size_t i = 0; i < signature_size; ++i) q[636 + i] = static_cast<char>(0xA0 + (i % 16));
  return q;
}

std::string FakeSnpReport(std::string_view report_data, std::string_view host_data, int version) {
  std::string r(1184, '\0');
  StoreLe(r, 0x00, static_cast<uint64_t>(version), 4);
  StoreLe(r, 0x04, 7, 4);                          // guest_svn
  StoreLe(r, 0x08, 0x30000, 8);                    // policy
  r[0x10] = 0x11;                                  // family_id[0]
  r[0x20] = 0x22;                                  // image_id[0]
  StoreLe(r, 0x34, 1, 4);                          // sig_algo ECDSA P-384 SHA-384
  const char tcb[8] = {3, 0, 0, 0, 0, 0, 8, 115};  // bootloader 3, tee 0, snp 8, microcode 115
  for (size_t off : {0x38, 0x180, 0x1E0, 0x1F0}) StoreBytes(r, off, std::string_view(tcb, 8), 8);
  StoreLe(r, 0x40, 3, 8);  // plat_info
  StoreLe(r, 0x48, 0, 4);  // key_info
  StoreBytes(r, 0x50, report_data, 64);
  for (int i = 0; i < 48; ++i) r[0x90 + i] = static_cast<char>(i);  // measurement
  StoreBytes(r, 0xC0, host_data, 32);
  if (version >= 3) {
    r[0x188] = 0x19;
    r[0x189] = 0x11;
    r[0x18A] = 0x01;
  }
  for (int i = 0; i < 64; ++i) r[0x1A0 + i] = static_cast<char>(0x40 + i);  // chip_id (not Turin-like)
  r[0x1E8] = 21;
  r[0x1E9] = 55;
  r[0x1EA] = 1;  // current: build 21, minor 55, major 1
  r[0x1EC] = 20;
  r[0x1ED] = 55;
  r[0x1EE] = 1;  // committed
  if (version >= 5) {
    StoreLe(r, 0x1F8, 5, 8);
    StoreLe(r, 0x200, 6, 8);
  }
  for (int i = 0; i < 144; ++i) r[0x2A0 + i] = static_cast<char>(i + 1);  // signature r ‖ s
  return r;
}

std::string FakeSnpCertTable(const std::vector<std::pair<std::string, std::string>>& entries) {
  std::string table;
  size_t offset = 24 * (entries.size() + 1);
  std::string certs;
  for (const auto& [guid, data] : entries) {
    std::string e = GuidBytes(guid);
    e.resize(24, '\0');
    StoreLe(e, 16, offset + certs.size(), 4);
    StoreLe(e, 20, data.size(), 4);
    table += e;
    certs += data;
  }
  table.append(24, '\0');
  return table + certs;
}

}  // namespace cdh::attestation
