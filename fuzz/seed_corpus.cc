// Writes the binary seeds of the fuzz corpora (fuzz/corpus/<target>/seed-*) from the same
// builders the tests use (attestation's fakes, the event-log writers, the ttrpc encoders), so the
// seeds are structurally valid inputs: `fuzz_seed_corpus <fuzz/corpus>`. The text seeds come
// from fuzz/make_seeds.py. Not a test; run by hand when a format changes, then minimise with
// `scripts/fuzz.sh --merge`.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "attestation/cc_eventlog.h"
#include "attestation/fake_hcl_report.h"
#include "attestation/fake_tee_reports.h"
#include "attestation/runtime_measurement.h"
#include "attestation/tpm/tpm_structures.h"
#include "ttrpc/codec.h"
#include "ttrpc/frame.h"

namespace cdh::attestation {
namespace {

std::string U16(uint16_t v) { return std::string{char(v >> 8), char(v)}; }
std::string U32(uint32_t v) { return U16(v >> 16) + U16(v & 0xffff); }

std::filesystem::path root;

void Write(const std::string& target, const std::string& name, const std::string& bytes) {
  std::filesystem::create_directories(root / target);
  std::ofstream(root / target / ("seed-" + name), std::ios::binary) << bytes;
}

std::string TpmAttest() {
  std::string a = U32(kTpmGeneratedValue) + U16(kTpmStAttestQuote);
  a += U16(4) + "name";
  a += U16(32) + std::string(32, 'n');
  a += std::string(8, '\0') + U32(1) + U32(2) + std::string(1, '\x01');
  a += std::string(8, '\x07');
  a += U32(1) + U16(kTpmAlgSha256) + std::string(1, '\x03') + std::string("\xff\xff\xff", 3);
  a += U16(32) + std::string(32, 'd');
  return a;
}

void WriteAll() {
  const std::string report_data(64, '\x5a');
  // tee_evidence: byte 0 selects the parser (fuzz/tee_evidence_fuzzer.cc).
  Write("tee_evidence", "tdx-quote-v4", std::string(1, '\0') + FakeTdxQuoteV4(report_data, std::string(48, 'c')));
  for (int version : {2, 3, 5}) {
    Write("tee_evidence", "snp-report-v" + std::to_string(version),
          std::string(1, '\1') + FakeSnpReport(report_data, std::string(32, 'h'), version));
  }
  Write("tee_evidence", "snp-cert-table",
        std::string(1, '\2') + FakeSnpCertTable({{"63da758d-e664-4564-adc5-f4b93be8accd", "VCEK"},
                                                 {"4ab7b379-bbac-4fe4-a02f-05aef327c782", "ASK"}}));
  const std::string snp = FakeSnpReport(report_data, std::string(32, 'h'), 3);
  Write("tee_evidence", "hcl-snp",
        std::string(1, '\3') + BuildFakeHclReport(HclReportType::kSnp, snp, std::string(256, '\x80'),
                                                  std::string("\x01\x00\x01", 3), "user"));
  Write("tee_evidence", "hcl-tdx",
        std::string(1, '\3') + BuildFakeHclReport(HclReportType::kTdx, std::string(1024, 't'), std::string(256, '\x80'),
                                                  std::string("\x01\x00\x01", 3), "user"));
  Write("tee_evidence", "tpm-attest", std::string(1, '\4') + TpmAttest());
  Write("tee_evidence", "tpm-signature",
        std::string(1, '\5') + U16(kTpmAlgRsassa) + U16(kTpmAlgSha256) + U16(256) + std::string(256, 's'));
  Write("tee_evidence", "tsm-generation", std::string(1, '\6') + "3\n");
  Write("tee_evidence", "imds-quote", std::string(1, '\7') + R"({"quote":"AAECAwQ"})");
  Write("tee_evidence", "imds-vcek",
        std::string(1, '\x08') + R"({"vcekCert":"-----BEGIN CERTIFICATE-----\nAAEC\n-----END CERTIFICATE-----\n"})");

  // event_log: bit 0 = CCEL, else AAEL with the hash in bits 1-2.
  Write("event_log", "ccel-header", std::string(1, '\1') + CcEventlogHeader() + std::string(8, '\xff'));
  Write("event_log", "ccel-runtime",
        std::string(1, '\1') + CcEventlogHeader() + AaelEntry(crypto::HashAlgorithm::kSha384, 2, "a b c") +
            std::string(8, '\0'));
  Write("event_log", "aael-sha256",
        std::string(1, '\0') + AaelEntry(crypto::HashAlgorithm::kSha256, 23, "d o c") +
            AaelEntry(crypto::HashAlgorithm::kSha256, 17, "github.com/confidential-containers PullImage x"));
  Write("event_log", "aael-sha384", std::string(1, '\2') + AaelEntry(crypto::HashAlgorithm::kSha384, 3, "e f g"));

  // ttrpc_frame: byte at the end = 1 selects the 4 MiB limit; chunk sizes come from the end too.
  const std::string request = cdh::ttrpc::EncodeRequest("api.SealedSecretService", "UnsealSecret",
                                                        std::string("\x0a\x05sealed", 8), 1000000000);
  const std::string frame = cdh::ttrpc::EncodeFrame(1, cdh::ttrpc::MessageType::kRequest, 0, request);
  const std::string reply(cdh::ttrpc::EncodeResponse({0, ""}, "plaintext").RevealString());
  Write("ttrpc_frame", "request", frame + frame + std::string(1, '\x01'));
  Write("ttrpc_frame", "response",
        cdh::ttrpc::EncodeFrame(1, cdh::ttrpc::MessageType::kResponse, 0, reply) + std::string(1, '\x01'));
  Write("ttrpc_frame", "oversize",
        cdh::ttrpc::EncodeFrame(3, cdh::ttrpc::MessageType::kRequest, 0, std::string(200, 'x')) + frame +
            std::string("\x10\x00", 2));
  Write("ttrpc_server", "request", frame);
  Write("ttrpc_server", "two-requests",
        frame + cdh::ttrpc::EncodeFrame(2, cdh::ttrpc::MessageType::kRequest, 0, request));
}

}  // namespace
}  // namespace cdh::attestation

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <fuzz/corpus>\n", argv[0]);
    return 2;
  }
  cdh::attestation::root = argv[1];
  cdh::attestation::WriteAll();
  return 0;
}
