// The data hub's configuration (daemon/config.h): the -c file as TOML or JSON (toml++ and
// nlohmann-json behind ParseConfigFile), validated by LoadConfig against the plugins this build
// has, together with AA_KBC_PARAMS, the kernel command line (agent.aa_kbc_params) and the
// [rest_api] policy (server/rest_policy.h), whose Refusal is then asked about a few routes.
// Layout of the input: byte 0 picks the format (bit 0: JSON), then AA_KBC_PARAMS and the kernel
// command line as length-prefixed strings (FuzzedDataProvider), the rest is the file.
#include <fuzzer/FuzzedDataProvider.h>

#include "common/unix_socket_address.h"
#include "daemon/composition.h"
#include "daemon/config.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const cdh::KnownPlugins plugins = cdh::BuiltinPlugins();
  FuzzedDataProvider in(data, size);
  const bool json = in.ConsumeBool();
  const std::string kbc_params = in.ConsumeRandomLengthString(256);
  const std::string cmdline = in.ConsumeRandomLengthString(512);
  const std::string file = in.ConsumeRemainingBytesAsString();

  (void)cdh::ParseKbcParams(kbc_params);
  (void)cdh::UnixSocketAddress::Parse(kbc_params);

  cdh::ConfigSources sources;
  sources.file_path = json ? "/etc/cdh.json" : "/etc/cdh.toml";
  sources.file_text = file;
  if (!kbc_params.empty()) sources.env["AA_KBC_PARAMS"] = kbc_params;
  sources.kernel_cmdline = cmdline;
  absl::StatusOr<cdh::CdhConfig> config = cdh::LoadConfig(sources, plugins);
  if (config.ok() && config->rest_policy.has_value()) {
    for (const char* route : {"resource:default/key/1", "aa:token", "aa:evidence", ""}) {
      (void)config->rest_policy->Refusal(route, std::nullopt);
      (void)config->rest_policy->Refusal(route, std::string("/kubepods/pod1"));
    }
  }
  return 0;
}
