#include "attestation/tdx_attester.h"

#include "attestation/cc_eventlog.h"
#include "common/base64.h"
#include "common/file_util.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace cdh::attestation {
namespace {

// The file's contents, nullopt when it does not exist.
absl::StatusOr<std::optional<std::string>> ReadOptional(const std::string& path, size_t max_bytes) {
  absl::StatusOr<std::string> text = ReadFileBounded(path, max_bytes);
  if (text.ok()) return std::optional<std::string>(std::move(text).value());
  if (text.status().code() == absl::StatusCode::kNotFound) return std::optional<std::string>();
  return text.status();
}

}  // namespace

TdxAttester::TdxAttester(std::shared_ptr<TsmFs> tsm, TdxOptions options)
    : reporter_(std::move(tsm)), options_(std::move(options)) {}

absl::StatusOr<nlohmann::json> TdxAttester::GetEvidence(std::string_view report_data, const CallContext& ctx) {
  if (report_data.size() > kReportDataSize) {
    return absl::InvalidArgumentError(
        StrCat("tdx: report data is ", report_data.size(), " bytes; at most ", kReportDataSize, " fit in REPORTDATA"));
  }
  std::string inblob(report_data);
  inblob.resize(kReportDataSize, '\0');
  CDH_ASSIGN_OR_RETURN(TsmReport report, reporter_.GetReport("tdx_guest", inblob, false, ctx));

  CDH_ASSIGN_OR_RETURN(std::optional<std::string> ccel, ReadOptional(options_.ccel_path, kMaxEventlogSize));
  CDH_ASSIGN_OR_RETURN(std::optional<std::string> runtime_log,
                       ReadOptional(options_.runtime_log_path, kMaxEventlogSize));
  absl::StatusOr<std::optional<std::string>> eventlog = BuildCcEventlog(ccel, runtime_log);
  if (!eventlog.ok()) return Annotate(eventlog.status(), options_.ccel_path);

  nlohmann::json evidence;
  evidence["cc_eventlog"] = eventlog->has_value() ? nlohmann::json(Base64StdEncode(**eventlog)) : nlohmann::json(nullptr);
  evidence["quote"] = Base64StdEncode(report.outblob);
  return evidence;
}

}  // namespace cdh::attestation
