#include "attestation/snp_report.h"

#include <cstdint>
#include <cstdio>

#include "common/byte_reader.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace cdh::attestation {
namespace {

enum class Generation { kMilan, kGenoa, kTurin };

// The next `n` bytes as a JSON array of integers.
absl::StatusOr<nlohmann::json> JsonBytes(ByteReader& r, size_t n) {
  CDH_ASSIGN_OR_RETURN(std::string_view b, r.Bytes(n));
  nlohmann::json a = nlohmann::json::array();
  for (char c : b) a.push_back(static_cast<uint8_t>(c));
  return a;
}

// An 8-byte TCB_VERSION; the byte layout depends on the processor generation.
absl::StatusOr<nlohmann::json> Tcb(ByteReader& r, Generation g) {
  CDH_ASSIGN_OR_RETURN(std::string_view b, r.Bytes(8));
  auto u = [&](size_t i) { return static_cast<uint8_t>(b[i]); };
  if (g == Generation::kTurin) {
    return nlohmann::json{{"fmc", u(0)}, {"bootloader", u(1)}, {"tee", u(2)}, {"snp", u(3)}, {"microcode", u(7)}};
  }
  return nlohmann::json{{"fmc", nullptr}, {"bootloader", u(0)}, {"tee", u(1)}, {"snp", u(6)}, {"microcode", u(7)}};
}

// A 4-byte firmware version, stored as build, minor, major, reserved.
absl::StatusOr<nlohmann::json> Version(ByteReader& r) {
  CDH_ASSIGN_OR_RETURN(uint8_t build, r.U8());
  CDH_ASSIGN_OR_RETURN(uint8_t minor, r.U8());
  CDH_ASSIGN_OR_RETURN(uint8_t major, r.U8());
  CDH_RETURN_IF_ERROR(r.Skip(1));
  return nlohmann::json{{"major", major}, {"minor", minor}, {"build", build}};
}

std::string GuidString(std::string_view g) {
  char out[37];
  const auto* u = reinterpret_cast<const unsigned char*>(g.data());
  std::snprintf(out, sizeof out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1],
                u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
  return out;
}

absl::StatusOr<Generation> ProcessorGeneration(const ByteReader& report, uint32_t version) {
  if (version == 2) {
    CDH_ASSIGN_OR_RETURN(ByteReader chip_id, report.Slice(0x1A0, 64));
    std::string_view chip = chip_id.Rest();
    if (chip.find_first_not_of('\0') == std::string_view::npos) {
      return absl::InvalidArgumentError("SNP v2 report has a masked CHIP_ID; the processor generation is unknown");
    }
    return chip.substr(8).find_first_not_of('\0') == std::string_view::npos ? Generation::kTurin : Generation::kGenoa;
  }
  CDH_ASSIGN_OR_RETURN(ByteReader cpuid, report.Slice(0x188, 2));
  CDH_ASSIGN_OR_RETURN(uint8_t fam, cpuid.U8());
  CDH_ASSIGN_OR_RETURN(uint8_t mod, cpuid.U8());
  if (fam == 0x19 && mod <= 0x0F) return Generation::kMilan;
  if (fam == 0x19 && ((mod >= 0x10 && mod <= 0x1F) || (mod >= 0xA0 && mod <= 0xAF))) return Generation::kGenoa;
  if (fam == 0x1A && mod <= 0x11) return Generation::kTurin;
  return absl::InvalidArgumentError(StrCat("SNP report from an unknown processor (family ", fam, ", model ", mod, ")"));
}

}  // namespace

absl::Status CheckSnpReport(std::string_view report, std::string_view report_data) {
  if (report.size() != kSnpReportSize) {
    return absl::FailedPreconditionError(StrCat("snp: report is ", report.size(), " bytes, expected ", kSnpReportSize));
  }
  ByteReader r(report, "SNP report");
  CDH_ASSIGN_OR_RETURN(uint32_t version, r.U32Le());
  if (version < kSnpMinReportVersion || version > kSnpMaxReportVersion) {
    return absl::FailedPreconditionError(
        StrCat("snp: report version ", version, " is not one of ", kSnpMinReportVersion, "..", kSnpMaxReportVersion));
  }
  if (report.substr(kSnpReportDataOffset, 64) != report_data) {
    return absl::FailedPreconditionError("snp: REPORT_DATA differs from the report data we asked for");
  }
  return absl::OkStatus();
}

absl::StatusOr<nlohmann::json> SnpReportToJson(std::string_view report) {
  if (report.size() != kSnpReportSize) {
    return absl::InvalidArgumentError(StrCat("SNP report is ", report.size(), " bytes, expected ", kSnpReportSize));
  }
  ByteReader r(report, "SNP report");
  CDH_ASSIGN_OR_RETURN(uint32_t version, r.U32Le());
  if (version < 2) return absl::InvalidArgumentError(StrCat("SNP report version ", version, " is not supported"));
  bool v2 = version == 2;
  bool v5 = version >= 5;
  CDH_ASSIGN_OR_RETURN(Generation gen, ProcessorGeneration(r, version));
  // Fields in report order (offsets: SEV-SNP ABI, ATTESTATION_REPORT).
  nlohmann::json j;
  j["version"] = version;
  CDH_ASSIGN_OR_RETURN(j["guest_svn"], r.U32Le());         // 0x04
  CDH_ASSIGN_OR_RETURN(j["policy"], r.U64Le());            // 0x08
  CDH_ASSIGN_OR_RETURN(j["family_id"], JsonBytes(r, 16));  // 0x10
  CDH_ASSIGN_OR_RETURN(j["image_id"], JsonBytes(r, 16));   // 0x20
  CDH_ASSIGN_OR_RETURN(j["vmpl"], r.U32Le());              // 0x30
  CDH_ASSIGN_OR_RETURN(j["sig_algo"], r.U32Le());          // 0x34
  CDH_ASSIGN_OR_RETURN(j["current_tcb"], Tcb(r, gen));     // 0x38
  CDH_ASSIGN_OR_RETURN(j["plat_info"], r.U64Le());         // 0x40
  CDH_ASSIGN_OR_RETURN(j["key_info"], r.U32Le());          // 0x48
  CDH_RETURN_IF_ERROR(r.Seek(kSnpReportDataOffset));
  CDH_ASSIGN_OR_RETURN(j["report_data"], JsonBytes(r, 64));              // 0x50
  CDH_ASSIGN_OR_RETURN(j["measurement"], JsonBytes(r, 48));              // 0x90
  CDH_ASSIGN_OR_RETURN(j["host_data"], JsonBytes(r, kSnpHostDataSize));  // 0xC0
  CDH_ASSIGN_OR_RETURN(j["id_key_digest"], JsonBytes(r, 48));            // 0xE0
  CDH_ASSIGN_OR_RETURN(j["author_key_digest"], JsonBytes(r, 48));        // 0x110
  CDH_ASSIGN_OR_RETURN(j["report_id"], JsonBytes(r, 32));                // 0x140
  CDH_ASSIGN_OR_RETURN(j["report_id_ma"], JsonBytes(r, 32));             // 0x160
  CDH_ASSIGN_OR_RETURN(j["reported_tcb"], Tcb(r, gen));                  // 0x180
  if (v2) {
    j["cpuid_fam_id"] = nullptr;
    j["cpuid_mod_id"] = nullptr;
    j["cpuid_step"] = nullptr;
  } else {
    CDH_ASSIGN_OR_RETURN(j["cpuid_fam_id"], r.U8());  // 0x188
    CDH_ASSIGN_OR_RETURN(j["cpuid_mod_id"], r.U8());
    CDH_ASSIGN_OR_RETURN(j["cpuid_step"], r.U8());
  }
  CDH_RETURN_IF_ERROR(r.Seek(0x1A0));
  CDH_ASSIGN_OR_RETURN(j["chip_id"], JsonBytes(r, 64));   // 0x1A0
  CDH_ASSIGN_OR_RETURN(j["committed_tcb"], Tcb(r, gen));  // 0x1E0
  CDH_ASSIGN_OR_RETURN(j["current"], Version(r));         // 0x1E8
  CDH_ASSIGN_OR_RETURN(j["committed"], Version(r));       // 0x1EC
  CDH_ASSIGN_OR_RETURN(j["launch_tcb"], Tcb(r, gen));     // 0x1F0
  if (v5) {
    CDH_ASSIGN_OR_RETURN(j["launch_mit_vector"], r.U64Le());   // 0x1F8
    CDH_ASSIGN_OR_RETURN(j["current_mit_vector"], r.U64Le());  // 0x200
  } else {
    j["launch_mit_vector"] = nullptr;
    j["current_mit_vector"] = nullptr;
  }
  CDH_RETURN_IF_ERROR(r.Seek(0x2A0));
  nlohmann::json signature;
  CDH_ASSIGN_OR_RETURN(signature["r"], JsonBytes(r, 72));
  CDH_ASSIGN_OR_RETURN(signature["s"], JsonBytes(r, 72));
  j["signature"] = std::move(signature);
  return j;
}

absl::StatusOr<nlohmann::json> SnpCertTableToJson(std::string_view table) {
  static const std::pair<const char*, const char*> kKnown[] = {
      {"c0b406a4-a803-4952-9743-3fb6014cd0ae", "ARK"},  {"4ab7b379-bbac-4fe4-a02f-05aef327c782", "ASK"},
      {"63da758d-e664-4564-adc5-f4b93be8accd", "VCEK"}, {"a8074bc2-a25a-483e-aae6-39c045a0b8a1", "VLEK"},
      {"92f81bc3-5811-4d3d-97ff-d19f88dc67ea", "CRL"},
  };
  const ByteReader whole(table, "SNP certificate table");
  ByteReader entries = whole;
  nlohmann::json chain = nlohmann::json::array();
  for (size_t index = 0;; ++index) {
    absl::StatusOr<ByteReader> entry = entries.Sub(24);
    if (!entry.ok()) return absl::InvalidArgumentError("SNP certificate table has no terminating entry");
    CDH_ASSIGN_OR_RETURN(std::string_view guid, entry->Bytes(16));
    if (guid.find_first_not_of('\0') == std::string_view::npos) break;
    CDH_ASSIGN_OR_RETURN(uint32_t off, entry->U32Le());
    CDH_ASSIGN_OR_RETURN(uint32_t len, entry->U32Le());
    absl::StatusOr<ByteReader> cert = whole.Slice(off, len);
    if (!cert.ok()) {
      return absl::InvalidArgumentError(StrCat("SNP certificate table entry ", index, " lies outside the table"));
    }
    std::string g = GuidString(guid);
    nlohmann::json type = {{"OTHER", g}};
    for (const auto& [known, name] : kKnown) {
      if (g == known) type = name;
    }
    CDH_ASSIGN_OR_RETURN(nlohmann::json data, JsonBytes(*cert, len));
    chain.push_back({{"cert_type", type}, {"data", std::move(data)}});
  }
  return chain;
}

}  // namespace cdh::attestation
