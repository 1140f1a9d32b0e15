// The binary TEE and TPM structures the attesters read from the platform (a host-controlled
// surface in a confidential VM) and the IMDS answers of Azure: byte 0 picks the parser, the
// rest is its input.
//   0 TDX quote check (attestation/tdx_quote.h)       1 SNP report check + JSON (snp_report.h)
//   2 SNP certificate table (snp_report.h)             3 HCL report + its AK (hcl_report.h)
//   4 TPMS_ATTEST of a quote (tpm/tpm_structures.h)    5 TPMT_SIGNATURE RSASSA-SHA256
//   6 configfs-tsm decimal attribute (tsm_report.h)    7 IMDS TD quote answer (imds_client.h)
//   8 IMDS VCEK certificate answer (PEM, imds_client.h)
// The IMDS answers come through a FakeHttpClient (no Azure IMDS here); the parsing after it is
// the product's.
#include <memory>

#include "attestation/hcl_report.h"
#include "attestation/imds_client.h"
#include "attestation/snp_report.h"
#include "attestation/tdx_quote.h"
#include "attestation/tpm/tpm_structures.h"
#include "attestation/tsm_report.h"
#include "common/call_context.h"
#include "fuzz/fuzz_util.h"
#include "http/fake_http_client.h"

namespace cdh::attestation {
namespace {

// 64 bytes of report data as the attesters pass them.
const std::string kReportData(64, '\x5a');

void Imds(std::string_view body, bool vcek) {
  auto fake = std::make_unique<http::FakeHttpClient>();
  http::FakeHttpClient& http = *fake;
  auto client = std::move(HttpImdsClient::New("http://127.0.0.1:1", std::move(fake))).value();
  http::HttpResponse response;
  response.status = 200;
  response.body = std::string(body);
  http.Answer(response);
  if (vcek) {
    (void)client->GetVcekDer(CallContext{});
  } else {
    (void)client->GetTdQuote(std::string(1024, '\0'), CallContext{});
  }
}

}  // namespace
}  // namespace cdh::attestation

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cdh::attestation;  // NOLINT
  if (size == 0) return 0;
  const std::string_view input = cdh::fuzz::AsView(data + 1, size - 1);
  switch (data[0] % 9) {
    case 0:
      (void)CheckTdxQuote(input, kReportData);
      (void)CheckTdxQuote(input, input.substr(0, 64));
      break;
    case 1:
      (void)CheckSnpReport(input, kReportData);
      (void)SnpReportToJson(input);
      break;
    case 2:
      (void)SnpCertTableToJson(input);
      break;
    case 3: {
      absl::StatusOr<HclReport> report = ParseHclReport(input);
      if (report.ok()) {
        FUZZ_CHECK(report->hardware_report_data.size() == 64);
        (void)HclAkPublicSpki(report->var_data);
      }
      (void)HclAkPublicSpki(input);
      break;
    }
    case 4:
      (void)ParseTpmQuoteAttest(input);
      break;
    case 5:
      (void)ParseTpmRsassaSha256Signature(input);
      break;
    case 6:
      (void)ParseTsmDecimal(input);
      break;
    case 7:
      Imds(input, false);
      break;
    case 8:
      Imds(input, true);
      (void)PemCertificateToDer(input);
      break;
  }
  return 0;
}
