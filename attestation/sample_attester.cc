#include "attestation/sample_attester.h"

#include "common/base64.h"
#include "common/strings.h"

namespace cdh::attestation {

absl::StatusOr<nlohmann::json> SampleAttester::GetEvidence(std::string_view report_data, const CallContext& ctx) {
  if (report_data.empty() || report_data.size() > kMaxReportData) {
    return absl::InvalidArgumentError(
        StrCat("sample attester: report data must be 1..", kMaxReportData, " bytes, got ", report_data.size()));
  }
  if (ctx.Expired()) return absl::DeadlineExceededError("sample attester: deadline exceeded");
  return nlohmann::json{{"svn", "1"}, {"report_data", Base64StdEncode(report_data)}};
}

}  // namespace cdh::attestation
