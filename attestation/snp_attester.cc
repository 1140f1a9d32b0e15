#include "attestation/snp_attester.h"

#include "attestation/snp_report.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace cdh::attestation {

SnpAttester::SnpAttester(std::shared_ptr<TsmFs> tsm, std::unique_ptr<SevGuestDevice> device)
    : device_(std::move(device)) {
  if (tsm) reporter_ = std::make_unique<TsmReporter>(std::move(tsm));
}

absl::StatusOr<SnpAttester::RawReport> SnpAttester::FetchReport(const std::string& padded, const CallContext& ctx) {
  RawReport out;
  if (reporter_) {
    CDH_ASSIGN_OR_RETURN(TsmReport r, reporter_->GetReport("sev_guest", padded, /*want_auxblob=*/true, ctx));
    out.report = std::move(r.outblob);
    out.certs = std::move(r.auxblob);
  } else if (device_) {
    if (ctx.Expired()) return absl::DeadlineExceededError("snp: deadline exceeded");
    CDH_ASSIGN_OR_RETURN(SnpExtReport r, device_->GetExtReport(padded, /*vmpl=*/0));
    out.report = std::move(r.report);
    out.certs = std::move(r.certs);
  } else {
    return absl::FailedPreconditionError("snp: neither configfs-tsm nor /dev/sev-guest is available");
  }
  return out;
}

absl::Status SnpAttester::BindInitData(std::string_view digest, const CallContext& ctx) {
  std::string zeros(kReportDataSize, '\0');
  CDH_ASSIGN_OR_RETURN(RawReport raw, FetchReport(zeros, ctx));
  CDH_RETURN_IF_ERROR(CheckSnpReport(raw.report, zeros));
  std::string expected(digest.substr(0, kSnpHostDataSize));
  expected.resize(kSnpHostDataSize, '\0');
  if (raw.report.substr(kSnpHostDataOffset, kSnpHostDataSize) != expected) {
    return absl::PermissionDeniedError("snp: HOST_DATA does not match the init data digest");
  }
  return absl::OkStatus();
}

absl::StatusOr<nlohmann::json> SnpAttester::GetEvidence(std::string_view report_data, const CallContext& ctx) {
  if (report_data.size() > kReportDataSize) {
    return absl::InvalidArgumentError(
        StrCat("snp: report data is ", report_data.size(), " bytes; at most ", kReportDataSize, " fit in REPORT_DATA"));
  }
  std::string padded(report_data);
  padded.resize(kReportDataSize, '\0');
  CDH_ASSIGN_OR_RETURN(RawReport raw, FetchReport(padded, ctx));
  const std::string& report = raw.report;
  const std::optional<std::string>& certs = raw.certs;
  // Our own evidence is checked before it leaves (size, version, report data), and a report or
  // certificate table that does not parse is the platform's fault, not the caller's.
  CDH_RETURN_IF_ERROR(CheckSnpReport(report, padded));
  absl::StatusOr<nlohmann::json> report_json = SnpReportToJson(report);
  if (!report_json.ok()) return absl::FailedPreconditionError(StrCat("snp: ", ToStd(report_json.status().message())));
  nlohmann::json evidence;
  evidence["attestation_report"] = std::move(report_json).value();
  if (certs.has_value()) {
    absl::StatusOr<nlohmann::json> chain = SnpCertTableToJson(*certs);
    if (!chain.ok()) {
      return absl::FailedPreconditionError(StrCat("snp auxblob: ", ToStd(chain.status().message())));
    }
    evidence["cert_chain"] = std::move(chain).value();
  } else {
    evidence["cert_chain"] = nullptr;
  }
  return evidence;
}

}  // namespace cdh::attestation
