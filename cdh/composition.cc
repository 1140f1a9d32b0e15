#include "cdh/composition.h"

#include <spdlog/spdlog.h>

#include "cdh/block_device_volume.h"
#include "common/file_util.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "resources/kms/kbs_kms.h"
#include "resources/offline_fs_provider.h"
#include "resources/secret/envelope.h"

namespace cdh {

std::map<std::string, KbcFactory> BuiltinKbcFactories() {
  std::map<std::string, KbcFactory> factories;
  factories["offline_fs_kbc"] =
      [](const CdhConfig& config) -> absl::StatusOr<std::unique_ptr<resources::ResourceProvider>> {
    return std::make_unique<resources::OfflineFsProvider>(config.offline_fs_files);
  };
  return factories;
}

absl::StatusOr<std::unique_ptr<Hub>> BuildHub(const CdhConfig& config) {
  auto factories = BuiltinKbcFactories();
  auto it = factories.find(config.kbc.name);
  if (it == factories.end()) {
    return absl::InvalidArgumentError(StrCat("kbc `", config.kbc.name, "` is not built into this data hub"));
  }
  HubComponents components;
  CDH_ASSIGN_OR_RETURN(components.resource_provider, it->second(config));
  resources::ResourceProvider& provider = *components.resource_provider;

  // KMS providers for envelope secrets and UnWrapKey: `kbs` (KEK held by the broker).
  components.kms = std::make_unique<resources::KmsRegistry>();
  components.kms->Register("kbs", [&provider](const nlohmann::json&) -> absl::StatusOr<std::unique_ptr<resources::KmsDecryptor>> {
    return std::make_unique<resources::KbsKms>(provider);
  });
  components.envelope = std::make_unique<resources::KmsEnvelopeDecryptor>(*components.kms);

  std::map<std::string, std::unique_ptr<resources::SecretGetter>> getters;
  getters["kbs"] = std::make_unique<resources::KbsSecretGetter>(provider);
  resources::SecretUnsealerOptions options{config.skip_sealed_secret_verification, config.SealedSecretKeyDir()};
  components.unsealer = std::make_unique<resources::SecretUnsealer>(options, provider, std::move(getters),
                                                                    components.envelope.get());
  components.key_unwrapper = std::make_unique<resources::KeyUnwrapper>(provider, *components.kms);
  CDH_ASSIGN_OR_RETURN(components.volume_drivers["block-device"],
                       NewBlockDeviceVolumeDriver(config, *components.unsealer, provider));
  return Hub::New(std::move(components));
}

absl::Status FetchCredentials(const CdhConfig& config, DataHub& hub, const CallContext& ctx) {
  for (const CredentialConfig& cred : config.credentials) {
    auto bytes = hub.GetResource(cred.resource_uri, ctx);
    if (!bytes.ok()) return Annotate(bytes.status(), StrCat("credential ", cred.resource_uri));
    CDH_RETURN_IF_ERROR(WriteFileAtomic(cred.path, bytes->RevealString(), 0600));
    spdlog::info("credential {} written to {}", cred.resource_uri, cred.path);
  }
  return absl::OkStatus();
}

}  // namespace cdh
