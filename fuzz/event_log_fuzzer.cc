// Event logs: the CCEL ACPI table (TCG2 crypto-agile events, host-supplied on TDX) as the TDX
// attester trims it and joins it with the runtime log (attestation/cc_eventlog.h), and the
// runtime-measurement log replayed into register values (attestation/runtime_measurement.h).
// Byte 0 picks: bit 0 the CCEL path, else the AAEL replay with SHA-256/384/512 (bits 1-2).
#include "attestation/cc_eventlog.h"
#include "attestation/runtime_measurement.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cdh::attestation;  // NOLINT
  if (size == 0) return 0;
  const std::string_view input = cdh::fuzz::AsView(data + 1, size - 1);
  if (data[0] & 1) {
    absl::StatusOr<std::string> trimmed = TrimCcel(input);
    if (trimmed.ok()) FUZZ_CHECK(trimmed->size() <= input.size());
    (void)BuildCcEventlog(std::string(input), std::string("runtime"));
    (void)BuildCcEventlog(std::string(input), std::nullopt);
  } else {
    static const cdh::crypto::HashAlgorithm kAlgs[] = {
        cdh::crypto::HashAlgorithm::kSha256, cdh::crypto::HashAlgorithm::kSha384, cdh::crypto::HashAlgorithm::kSha512};
    absl::StatusOr<std::map<uint32_t, std::string>> registers = ReplayAael(kAlgs[(data[0] >> 1) % 3], input);
    (void)registers;
  }
  return 0;
}
