// Init data (attestation/init_data.h): the TOML document the host hands the guest
// (initdata.toml), parsed and digested before it is bound into evidence.
#include "attestation/init_data.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::StatusOr<cdh::attestation::InitData> init_data =
      cdh::attestation::ParseInitData(std::string(cdh::fuzz::AsView(data, size)));
  if (init_data.ok()) FUZZ_CHECK(!init_data->digest.empty());
  return 0;
}
