#include "attestation/snp_attester.h"

#include "attestation/snp_report.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace cdh::attestation {

SnpAttester::SnpAttester(std::shared_ptr<TsmFs> tsm, std::unique_ptr<SevGuestDevice> device)
    : device_(std::move(device)) {
  if (tsm) reporter_ = std::make_unique<TsmReporter>(std::move(tsm));
}

absl::StatusOr<nlohmann::json> SnpAttester::GetEvidence(std::string_view report_data, const CallContext& ctx) {
  if (report_data.size() > kReportDataSize) {
    return absl::InvalidArgumentError(
        StrCat("snp: report data is ", report_data.size(), " bytes; at most ", kReportDataSize, " fit in REPORT_DATA"));
  }
  std::string padded(report_data);
  padded.resize(kReportDataSize, '\0');
  std::string report;
  std::optional<std::string> certs;
  if (reporter_) {
    CDH_ASSIGN_OR_RETURN(TsmReport r, reporter_->GetReport("sev_guest", padded, /*want_auxblob=*/true, ctx));
    report = std::move(r.outblob);
    certs = std::move(r.auxblob);
  } else if (device_) {
    if (ctx.Expired()) return absl::DeadlineExceededError("snp: deadline exceeded");
    CDH_ASSIGN_OR_RETURN(SnpExtReport r, device_->GetExtReport(padded, /*vmpl=*/0));
    report = std::move(r.report);
    certs = std::move(r.certs);
  } else {
    return absl::FailedPreconditionError("snp: neither configfs-tsm nor /dev/sev-guest is available");
  }
  absl::StatusOr<nlohmann::json> report_json = SnpReportToJson(report);
  if (!report_json.ok()) return Annotate(report_json.status(), "snp");
  nlohmann::json evidence;
  evidence["attestation_report"] = std::move(report_json).value();
  if (certs.has_value()) {
    absl::StatusOr<nlohmann::json> chain = SnpCertTableToJson(*certs);
    if (!chain.ok()) return Annotate(chain.status(), "snp auxblob");
    evidence["cert_chain"] = std::move(chain).value();
  } else {
    evidence["cert_chain"] = nullptr;
  }
  return evidence;
}

}  // namespace cdh::attestation
