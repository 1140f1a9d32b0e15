// The attestation agent's configuration (upstream aa.toml, daemon/aa_config.h), TOML or JSON.
// Byte 0 picks the format (bit 0: JSON), the rest is the file.
#include "daemon/aa_config.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string path = (data[0] & 1) ? "/run/aa.json" : "/run/aa.toml";
  (void)cdh::ParseAaConfig(path, std::string(cdh::fuzz::AsView(data + 1, size - 1)));
  return 0;
}
