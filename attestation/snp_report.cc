#include "attestation/snp_report.h"

#include <cstdint>
#include <cstdio>

#include "common/strings.h"

namespace cdh::attestation {
namespace {

enum class Generation { kMilan, kGenoa, kTurin };

uint64_t Le(std::string_view b, size_t at, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(b[at + i]);
  return v;
}

nlohmann::json Bytes(std::string_view b, size_t at, size_t n) {
  nlohmann::json a = nlohmann::json::array();
  for (size_t i = 0; i < n; ++i) a.push_back(static_cast<uint8_t>(b[at + i]));
  return a;
}

nlohmann::json Tcb(std::string_view b, size_t at, Generation g) {
  auto u = [&](size_t i) { return static_cast<uint8_t>(b[at + i]); };
  if (g == Generation::kTurin) {
    return {{"fmc", u(0)}, {"bootloader", u(1)}, {"tee", u(2)}, {"snp", u(3)}, {"microcode", u(7)}};
  }
  return {{"fmc", nullptr}, {"bootloader", u(0)}, {"tee", u(1)}, {"snp", u(6)}, {"microcode", u(7)}};
}

nlohmann::json Version(std::string_view b, size_t at) {
  // Stored as build, minor, major.
  return {{"major", static_cast<uint8_t>(b[at + 2])}, {"minor", static_cast<uint8_t>(b[at + 1])},
          {"build", static_cast<uint8_t>(b[at])}};
}

std::string GuidString(std::string_view g) {
  char out[37];
  const auto* u = reinterpret_cast<const unsigned char*>(g.data());
  std::snprintf(out, sizeof out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1],
                u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
  return out;
}

}  // namespace

absl::StatusOr<nlohmann::json> SnpReportToJson(std::string_view r) {
  if (r.size() != kSnpReportSize) {
    return absl::InvalidArgumentError(StrCat("SNP report is ", r.size(), " bytes, expected ", kSnpReportSize));
  }
  uint32_t version = static_cast<uint32_t>(Le(r, 0, 4));
  if (version < 2) return absl::InvalidArgumentError(StrCat("SNP report version ", version, " is not supported"));
  bool v2 = version == 2;
  bool v5 = version >= 5;
  Generation gen;
  if (v2) {
    std::string_view chip = r.substr(0x1A0, 64);
    if (chip.find_first_not_of('\0') == std::string_view::npos) {
      return absl::InvalidArgumentError("SNP v2 report has a masked CHIP_ID; the processor generation is unknown");
    }
    gen = chip.substr(8).find_first_not_of('\0') == std::string_view::npos ? Generation::kTurin : Generation::kGenoa;
  } else {
    uint8_t fam = static_cast<uint8_t>(r[0x188]);
    uint8_t mod = static_cast<uint8_t>(r[0x189]);
    if (fam == 0x19 && mod <= 0x0F) {
      gen = Generation::kMilan;
    } else if (fam == 0x19 && ((mod >= 0x10 && mod <= 0x1F) || (mod >= 0xA0 && mod <= 0xAF))) {
      gen = Generation::kGenoa;
    } else if (fam == 0x1A && mod <= 0x11) {
      gen = Generation::kTurin;
    } else {
      return absl::InvalidArgumentError(StrCat("SNP report from an unknown processor (family ", fam, ", model ", mod, ")"));
    }
  }
  nlohmann::json j;
  j["version"] = version;
  j["guest_svn"] = static_cast<uint32_t>(Le(r, 0x04, 4));
  j["policy"] = Le(r, 0x08, 8);
  j["family_id"] = Bytes(r, 0x10, 16);
  j["image_id"] = Bytes(r, 0x20, 16);
  j["vmpl"] = static_cast<uint32_t>(Le(r, 0x30, 4));
  j["sig_algo"] = static_cast<uint32_t>(Le(r, 0x34, 4));
  j["current_tcb"] = Tcb(r, 0x38, gen);
  j["plat_info"] = Le(r, 0x40, 8);
  j["key_info"] = static_cast<uint32_t>(Le(r, 0x48, 4));
  j["report_data"] = Bytes(r, kSnpReportDataOffset, 64);
  j["measurement"] = Bytes(r, 0x90, 48);
  j["host_data"] = Bytes(r, kSnpHostDataOffset, kSnpHostDataSize);
  j["id_key_digest"] = Bytes(r, 0xE0, 48);
  j["author_key_digest"] = Bytes(r, 0x110, 48);
  j["report_id"] = Bytes(r, 0x140, 32);
  j["report_id_ma"] = Bytes(r, 0x160, 32);
  j["reported_tcb"] = Tcb(r, 0x180, gen);
  if (v2) {
    j["cpuid_fam_id"] = nullptr;
    j["cpuid_mod_id"] = nullptr;
    j["cpuid_step"] = nullptr;
  } else {
    j["cpuid_fam_id"] = static_cast<uint8_t>(r[0x188]);
    j["cpuid_mod_id"] = static_cast<uint8_t>(r[0x189]);
    j["cpuid_step"] = static_cast<uint8_t>(r[0x18A]);
  }
  j["chip_id"] = Bytes(r, 0x1A0, 64);
  j["committed_tcb"] = Tcb(r, 0x1E0, gen);
  j["current"] = Version(r, 0x1E8);
  j["committed"] = Version(r, 0x1EC);
  j["launch_tcb"] = Tcb(r, 0x1F0, gen);
  if (v5) {
    j["launch_mit_vector"] = Le(r, 0x1F8, 8);
    j["current_mit_vector"] = Le(r, 0x200, 8);
  } else {
    j["launch_mit_vector"] = nullptr;
    j["current_mit_vector"] = nullptr;
  }
  j["signature"] = {{"r", Bytes(r, 0x2A0, 72)}, {"s", Bytes(r, 0x2A0 + 72, 72)}};
  return j;
}

absl::StatusOr<nlohmann::json> SnpCertTableToJson(std::string_view t) {
  static const std::pair<const char*, const char*> kKnown[] = {
      {"c0b406a4-a803-4952-9743-3fb6014cd0ae", "ARK"}, {"4ab7b379-bbac-4fe4-a02f-05aef327c782", "ASK"},
      {"63da758d-e664-4564-adc5-f4b93be8accd", "VCEK"}, {"a8074bc2-a25a-483e-aae6-39c045a0b8a1", "VLEK"},
      {"92f81bc3-5811-4d3d-97ff-d19f88dc67ea", "CRL"},
  };
  nlohmann::json chain = nlohmann::json::array();
  for (size_t at = 0;; at += 24) {
    if (t.size() < at + 24) return absl::InvalidArgumentError("SNP certificate table has no terminating entry");
    std::string_view guid = t.substr(at, 16);
    if (guid.find_first_not_of('\0') == std::string_view::npos) break;
    uint64_t off = Le(t, at + 16, 4);
    uint64_t len = Le(t, at + 20, 4);
    if (off > t.size() || len > t.size() - off) {
      return absl::InvalidArgumentError(StrCat("SNP certificate table entry ", at / 24, " lies outside the table"));
    }
    std::string g = GuidString(guid);
    nlohmann::json type = {{"OTHER", g}};
    for (const auto& [known, name] : kKnown) {
      if (g == known) type = name;
    }
    chain.push_back({{"cert_type", type}, {"data", Bytes(t, off, len)}});
  }
  return chain;
}

}  // namespace cdh::attestation
