#include "attestation/tdx_attester.h"

#include "attestation/cc_eventlog.h"
#include "attestation/tdx_quote.h"
#include "common/base64.h"
#include "common/file_util.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace cdh::attestation {
namespace {

// The file's contents, nullopt when it does not exist.
absl::StatusOr<std::optional<std::string>> ReadOptional(const std::string& path, size_t max_bytes) {
  // The CCEL is an ACPI table in sysfs: its announced size is not to be trusted (ReadPseudoFile).
  absl::StatusOr<std::string> text = ReadPseudoFile(path, max_bytes);
  if (text.ok()) return std::optional<std::string>(std::move(text).value());
  if (text.status().code() == absl::StatusCode::kNotFound) return std::optional<std::string>();
  return text.status();
}

}  // namespace

TdxAttester::TdxAttester(std::shared_ptr<TsmFs> tsm, TdxOptions options, std::shared_ptr<TdxMeasurements> measurements)
    : measurements_(std::move(measurements)), reporter_(std::move(tsm)), options_(std::move(options)) {}

absl::Status TdxAttester::BindInitData(std::string_view digest, const CallContext& ctx) {
  if (!measurements_) {
    return absl::UnavailableError(
        "tdx: MRCONFIGID is readable only through the tdx_guest measurements sysfs "
        "(Linux 6.16+), which is absent");
  }
  CDH_ASSIGN_OR_RETURN(std::string mr, measurements_->ReadMrConfigId());
  std::string expected(digest.substr(0, kTdxMrSize));
  expected.resize(kTdxMrSize, '\0');
  if (mr != expected) return absl::PermissionDeniedError("tdx: MRCONFIGID does not match the init data digest");
  return absl::OkStatus();
}

std::optional<int> TdxAttester::RuntimeMeasurementDigestSize() const {
  if (!measurements_ || !measurements_->CanExtend()) return std::nullopt;
  return static_cast<int>(kTdxMrSize);
}

uint32_t TdxAttester::MrIndex(uint64_t pcr) const {
  if (pcr == 1 || pcr == 7) return 1;
  if (pcr >= 2 && pcr <= 6) return 2;
  if (pcr >= 8 && pcr <= 15) return 3;
  return 4;
}

absl::Status TdxAttester::CheckMeasurements(uint64_t pcr_index) const {
  if (!measurements_ || !measurements_->CanExtend()) {
    return absl::UnimplementedError("tdx: runtime measurement needs the tdx_guest measurements sysfs (Linux 6.16+)");
  }
  if (pcr_index > 23) return absl::InvalidArgumentError(StrCat("tdx: PCR index ", pcr_index, " is outside 0..23"));
  return absl::OkStatus();
}

absl::Status TdxAttester::ExtendRuntimeMeasurement(uint64_t pcr_index, std::string_view digest) {
  CDH_RETURN_IF_ERROR(CheckMeasurements(pcr_index));
  return measurements_->ExtendRtmr(static_cast<int>(MrIndex(pcr_index)) - 1, digest);
}

absl::StatusOr<std::string> TdxAttester::ReadRuntimeMeasurement(uint64_t pcr_index) {
  CDH_RETURN_IF_ERROR(CheckMeasurements(pcr_index));
  return measurements_->ReadRtmr(static_cast<int>(MrIndex(pcr_index)) - 1);
}

absl::StatusOr<nlohmann::json> TdxAttester::GetEvidence(std::string_view report_data, const CallContext& ctx) {
  if (report_data.size() > kReportDataSize) {
    return absl::InvalidArgumentError(
        StrCat("tdx: report data is ", report_data.size(), " bytes; at most ", kReportDataSize, " fit in REPORTDATA"));
  }
  std::string inblob(report_data);
  inblob.resize(kReportDataSize, '\0');
  CDH_ASSIGN_OR_RETURN(TsmReport report, reporter_.GetReport("tdx_guest", inblob, false, ctx));
  // Our own evidence is checked before it leaves: a quote that is not what we asked for would
  // only be refused by the verifier, with far less to go on.
  CDH_RETURN_IF_ERROR(CheckTdxQuote(report.outblob, inblob));

  CDH_ASSIGN_OR_RETURN(std::optional<std::string> ccel, ReadOptional(options_.ccel_path, kMaxEventlogSize));
  CDH_ASSIGN_OR_RETURN(std::optional<std::string> runtime_log,
                       ReadOptional(options_.runtime_log_path, kMaxEventlogSize));
  absl::StatusOr<std::optional<std::string>> eventlog = BuildCcEventlog(ccel, runtime_log);
  if (!eventlog.ok()) {
    // The firmware's event log is part of our evidence: a malformed one is the platform's fault.
    return absl::FailedPreconditionError(StrCat(options_.ccel_path, ": ", ToStd(eventlog.status().message())));
  }

  nlohmann::json evidence;
  evidence["cc_eventlog"] =
      eventlog->has_value() ? nlohmann::json(Base64StdEncode(**eventlog)) : nlohmann::json(nullptr);
  evidence["quote"] = Base64StdEncode(report.outblob);
  return evidence;
}

}  // namespace cdh::attestation
