#include "daemon/composition.h"

#include <unistd.h>

#include <algorithm>

#include <spdlog/spdlog.h>

#include "absl/time/clock.h"
#include "attestation/attester_factory.h"
#include "attestation/init_data.h"
#include "attestation/runtime_measurement.h"
#include "attestation/tee_platform.h"
#include "common/file_util.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "daemon/block_device_volume.h"
#include "hub/authority_guard.h"
#include "image/ocicrypt/ocicrypt_layer_decryptor.h"
#include "image/policy/key_resolver.h"
#include "image/policy/policy_evaluator.h"
#include "kbs-client/kbs_client.h"
#include "resources/cc_kbc_provider.h"
#include "resources/kms/kbs_kms.h"
#include "resources/offline_fs_provider.h"
#include "resources/secret/envelope.h"

namespace cdh {

namespace {

// cc_kbc: the broker session (NewKbsSession), shared with the other roles when `shared` is set.
absl::StatusOr<std::unique_ptr<resources::ResourceProvider>> NewCcKbc(const CdhConfig& config,
                                                                      SharedAttestation* shared) {
  const std::string url = config.kbc.url.value_or("");  // LoadConfig requires it for cc_kbc
  auto make = [&]() { return NewKbsSession(url, config.kbc.kbs_cert, config.attestation); };
  std::shared_ptr<kbs::KbsClient> client;
  if (shared != nullptr) {
    auto session = shared->Session(url, make);
    if (!session.ok()) return Annotate(session.status(), "cc_kbc");
    client = std::move(*session);
  } else {
    auto session = make();
    if (!session.ok()) return Annotate(session.status(), "cc_kbc");
    client = std::move(*session);
  }
  return std::make_unique<resources::CcKbcProvider>(std::move(client));
}

// The runtime measurement of a successful pull (image-pull spec §1.6; trustee
// confidential-containers-eventlog.md): domain `github.com/confidential-containers`, operation
// `PullImage`, content `{"image":"<url>", "digest":"<digest>"}` formatted as upstream does (one
// space after the comma, nothing escaped: the reference grammar admits no quote or control
// character). Upstream extends through the attestation agent; this hub extends the TEE register
// itself, into the same event log the attestation agent's ExtendRuntimeMeasurement writes.
// Thread-safe (MeasurementLog is).
class LogPullMeasurer : public image::PullMeasurer {
 public:
  explicit LogPullMeasurer(std::shared_ptr<MeasurementLog> log) : log_(std::move(log)) {}
  absl::Status RecordPull(std::string_view image_url, const image::Digest& digest) override {
    return log_->Measure("github.com/confidential-containers", "PullImage",
                         StrCat("{\"image\":\"", image_url, "\", \"digest\":\"", digest.String(), "\"}"));
  }

 private:
  const std::shared_ptr<MeasurementLog> log_;
};

// Null (pulls not measured) without a TEE (offline_fs_kbc) or when the TEE has no runtime
// measurement, as upstream skips it when no attestation agent is there; logged once.
std::unique_ptr<image::PullMeasurer> NewPullMeasurer(const CdhConfig& config, SharedAttestation* shared) {
  if (config.kbc.name != "cc_kbc") return nullptr;
  auto open = [&config]() {
    return OpenMeasurementLog(config.attestation, attestation::kDefaultRuntimeLogPath,
                              attestation::RuntimeMeasurer::Options{}.default_pcr);
  };
  std::shared_ptr<MeasurementLog> log = shared != nullptr ? shared->Log(open) : open();
  if (log == nullptr) return nullptr;
  spdlog::info("image: image pulls are measured into TEE `{}`'s runtime register", log->tee());
  return std::make_unique<LogPullMeasurer>(std::move(log));
}

// PullImage: `[image]` with the signature policy (image/policy) and the ocicrypt layer
// decryptor (image/ocicrypt), both resolving keys in-process through the daemon's provider.
std::unique_ptr<ImageService> NewImageService(const CdhConfig& config, resources::ResourceProvider& provider,
                                              resources::KeyUnwrapper& unwrapper, SharedAttestation* shared) {
  ImageServiceDeps deps;
  auto keys = std::make_shared<image::ResourceKeyResolver>(provider);
  deps.make_verifier = [keys](
                           const std::optional<std::string>& policy,
                           const std::string& sigstore_yaml) -> absl::StatusOr<std::unique_ptr<image::ImageVerifier>> {
    std::unique_ptr<image::PolicyEvaluator> evaluator;
    if (policy) {
      image::PolicyEvaluatorOptions options;
      options.sigstore_config_yaml = sigstore_yaml;
      // The evaluator keeps a reference to the resolver: the lambda's copy of `keys` lives as
      // long as the service's deps.
      CDH_ASSIGN_OR_RETURN(evaluator, image::PolicyEvaluator::New(*policy, *keys, std::move(options)));
    } else {
      evaluator = image::PolicyEvaluator::NewWithoutPolicy();
    }
    // The one line saying which policy is in force (upstream warns when there is none).
    if (policy) {
      spdlog::info("image: {}", evaluator->Describe());
    } else {
      spdlog::warn("image: {}", evaluator->Describe());
    }
    return evaluator;
  };
  deps.make_decryptor = [&unwrapper]() -> absl::StatusOr<std::unique_ptr<image::LayerDecryptor>> {
    return std::make_unique<image::OcicryptLayerDecryptor>(unwrapper);
  };
  deps.measurer = NewPullMeasurer(config, shared);
  // At start-up, where the policy will come from; its content is logged when it is fetched.
  const ImagePullConfig& image = config.image;
  if (!image.image_security_policy_uri.empty()) {
    spdlog::info("image: signature policy from {}, fetched on the first pull",
                 Sanitize(image.image_security_policy_uri));
  } else if (image.image_security_policy) {
    spdlog::info("image: signature policy from [image] image_security_policy");
  } else {
    spdlog::warn("image: no `image_security_policy` given, thus all images can be pulled without filtering");
  }
  return std::make_unique<ImageService>(config.image, provider, std::move(deps));
}

}  // namespace

absl::StatusOr<attestation::AttesterChoice> ChooseConfiguredAttester(const AttestationConfig& config) {
  attestation::AttesterRegistry attesters;
  attestation::RegisterBuiltinAttesters(attesters);
  attestation::TeePlatform platform;  // hardware attesters and upstream-order detection
  platform.paths = config.paths;
  attestation::RegisterHardwareAttesters(attesters, platform);
  return attestation::ChooseAttester(config.tee.value_or(""), attesters, attestation::DetectionProbes(platform));
}

absl::StatusOr<std::shared_ptr<kbs::KbsClient>> SharedAttestation::Session(
    const std::string& url, const std::function<absl::StatusOr<std::unique_ptr<kbs::KbsClient>>()>& make) {
  absl::MutexLock lock(&mu_);  // held across `make`: a second role waits instead of attesting twice
  if (auto it = sessions_.find(url); it != sessions_.end()) {
    spdlog::info("attestation: sharing the attested session with {} already holds", url);
    return it->second;
  }
  CDH_ASSIGN_OR_RETURN(std::unique_ptr<kbs::KbsClient> client, make());
  std::shared_ptr<kbs::KbsClient> session = std::move(client);
  sessions_[url] = session;
  return session;
}

std::shared_ptr<MeasurementLog> SharedAttestation::Log(const std::function<std::shared_ptr<MeasurementLog>()>& open) {
  absl::MutexLock lock(&mu_);
  if (!log_opened_) {
    log_ = open();
    log_opened_ = true;
  }
  return log_;
}

absl::StatusOr<std::unique_ptr<kbs::KbsClient>> NewKbsSession(const std::string& url,
                                                              const std::optional<std::string>& kbs_cert,
                                                              const AttestationConfig& attestation) {
  CDH_ASSIGN_OR_RETURN(attestation::AttesterChoice choice, ChooseConfiguredAttester(attestation));
  spdlog::info("attestation: TEE `{}`, {}", choice.attester->tee(), choice.how);
  if (choice.attester->tee() == "sample") {
    spdlog::warn(
        "attestation: the `sample` attester produces evidence that is NOT hardware-backed; any "
        "broker that accepts it trusts whoever asks. Development and tests only.");
  }
  // Init data (attesters.md §5): bind it to the TEE before anything else, then send it.
  kbs::KbsClientOptions client_options;
  const std::string& init_path = attestation.init_data_path;
  std::optional<attestation::InitData> init_data;
  if (!init_path.empty()) {
    CDH_ASSIGN_OR_RETURN(init_data, attestation::LoadInitData(init_path));
  }
  if (init_data.has_value()) {
    bool bound = false;
    absl::Status s =
        attestation::BindInitData(*choice.attester, *init_data, CallContext::WithTimeout(absl::Seconds(60)), &bound);
    if (!s.ok()) return Annotate(s, StrCat("init data ", init_path));
    spdlog::info("init data: {} ({}), {}", init_path, crypto::HashAlgorithmName(init_data->algorithm),
                 bound ? "bound to the TEE" : "this TEE has no init-data binding");
    client_options.init_data = init_data->RcarValue();
  }
  kbs::KbsConnectionConfig connection;
  connection.url = url;
  connection.kbs_cert_pem = kbs_cert.value_or("");
  client_options.on_handshake = [](absl::Time token_exp) {
    spdlog::info("cc_kbc: attested to the KBS; token valid until {}",
                 cdh::ToStd(absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", token_exp, absl::UTCTimeZone())));
    if (token_exp <= absl::Now()) {
      spdlog::warn(
          "cc_kbc: the KBS issued a token that has already expired by this guest's clock; "
          "check the guest clock (or the broker's token lifetime)");
    }
  };
  CDH_ASSIGN_OR_RETURN(std::unique_ptr<kbs::KbsClient> client,
                       kbs::NewCurlKbsClient(connection, std::move(client_options), std::move(choice.attester)));
  spdlog::info("cc_kbc: KBS {} (protocol 0.4.0, TEE key EC P-256), token reused until expiry", connection.url);
  return client;
}

std::shared_ptr<MeasurementLog> OpenMeasurementLog(const AttestationConfig& attestation, const std::string& log_path,
                                                   uint64_t init_pcr) {
  auto choice = ChooseConfiguredAttester(attestation);
  if (!choice.ok()) return nullptr;
  std::string tee(choice->attester->tee());
  attestation::RuntimeMeasurer::Options options;
  options.log_path = log_path;
  options.default_pcr = init_pcr;
  auto log = MeasurementLog::Open(std::move(choice->attester), std::move(options));
  if (!log.ok()) {
    if (log.status().code() == absl::StatusCode::kUnimplemented) {
      spdlog::info("runtime measurement: TEE `{}` has none; events are not measured", tee);
    } else {
      spdlog::warn("runtime measurement unavailable ({}); events are not measured", ToStd(log.status().message()));
    }
    return nullptr;
  }
  spdlog::info("runtime measurement: event log {} on TEE `{}`", log_path, tee);
  return std::move(*log);
}

void KbcRegistry::Register(std::string name, KbcTraits traits, Factory factory) {
  entries_[std::move(name)] = Entry{traits, std::move(factory)};
}

std::map<std::string, KbcTraits, std::less<>> KbcRegistry::Traits() const {
  std::map<std::string, KbcTraits, std::less<>> out;
  for (const auto& [name, entry] : entries_) out.emplace(name, entry.traits);
  return out;
}

absl::StatusOr<std::unique_ptr<resources::ResourceProvider>> KbcRegistry::New(const CdhConfig& config) const {
  auto it = entries_.find(config.kbc.name);
  if (it == entries_.end()) {
    return absl::InvalidArgumentError(StrCat("kbc `", config.kbc.name, "` is not built into this data hub"));
  }
  return it->second.factory(config);
}

KbcRegistry BuiltinKbcs(SharedAttestation* shared) {
  KbcRegistry registry;
  registry.Register("cc_kbc", KbcTraits{.needs_broker_url = true},
                    [shared](const CdhConfig& config) { return NewCcKbc(config, shared); });
  registry.Register("offline_fs_kbc", KbcTraits{},
                    [](const CdhConfig& config) -> absl::StatusOr<std::unique_ptr<resources::ResourceProvider>> {
                      for (const std::string& file : config.offline_fs_files) {
                        if (access(file.c_str(), F_OK) != 0) {
                          spdlog::warn("offline_fs_kbc: resource file {} does not exist; it is skipped until it does",
                                       file);
                        }
                      }
                      return std::make_unique<resources::OfflineFsProvider>(config.offline_fs_files);
                    });
  return registry;
}

KnownPlugins BuiltinPlugins() {
  KnownPlugins plugins;
  plugins.kbcs = BuiltinKbcs().Traits();
  // The attester registry as the daemon fills it; registering touches no device.
  attestation::AttesterRegistry attesters;
  attestation::RegisterBuiltinAttesters(attesters);
  attestation::RegisterHardwareAttesters(attesters, attestation::TeePlatform{});
  plugins.tees = attesters.Names();
  return plugins;
}

absl::StatusOr<std::unique_ptr<Hub>> BuildHub(const CdhConfig& config, SharedAttestation* shared) {
  HubComponents components;
  CDH_ASSIGN_OR_RETURN(std::unique_ptr<resources::ResourceProvider> kbc, BuiltinKbcs(shared).New(config));
  components.resource_provider = std::make_unique<AuthorityGuard>(std::move(kbc));
  resources::ResourceProvider& provider = *components.resource_provider;

  // KMS providers for envelope secrets and UnWrapKey: `kbs` (KEK held by the broker).
  components.kms = std::make_unique<resources::KmsRegistry>();
  components.kms->Register(
      "kbs", [&provider](const nlohmann::json&) -> absl::StatusOr<std::unique_ptr<resources::KmsDecryptor>> {
        return std::make_unique<resources::KbsKms>(provider);
      });
  components.envelope = std::make_unique<resources::KmsEnvelopeDecryptor>(*components.kms);

  std::map<std::string, std::unique_ptr<resources::SecretGetter>> getters;
  getters["kbs"] = std::make_unique<resources::KbsSecretGetter>(provider);
  resources::SecretUnsealerOptions options{config.skip_sealed_secret_verification, config.SealedSecretKeyDir()};
  components.unsealer =
      std::make_unique<resources::SecretUnsealer>(options, provider, std::move(getters), components.envelope.get());
  components.key_unwrapper = std::make_unique<resources::KeyUnwrapper>(*components.kms);
  CDH_ASSIGN_OR_RETURN(components.volume_drivers["block-device"],
                       NewBlockDeviceVolumeDriver(config, *components.unsealer, provider));
  components.image = NewImageService(config, provider, *components.key_unwrapper, shared);
  return Hub::New(std::move(components));
}

absl::Status FetchCredentials(const CdhConfig& config, DataHub& hub, const CallContext& ctx) {
  for (const CredentialConfig& cred : config.credentials) {
    // A broker that is not up yet (UNAVAILABLE: retryable, docs/errors.md) is asked again with
    // backoff until `ctx` runs out; any other answer is final.
    absl::Duration backoff = absl::Milliseconds(100);
    absl::StatusOr<SecretBytes> bytes = hub.GetResource(cred.resource_uri, ctx);
    while (!bytes.ok() && bytes.status().code() == absl::StatusCode::kUnavailable &&
           absl::Now() + backoff < ctx.deadline) {
      spdlog::info("credential {}: broker unavailable, retrying in {} ms", cred.resource_uri,
                   absl::ToInt64Milliseconds(backoff));
      absl::SleepFor(backoff);
      backoff = std::min(backoff * 2, absl::Milliseconds(800));
      bytes = hub.GetResource(cred.resource_uri, ctx);
    }
    if (!bytes.ok()) return Annotate(bytes.status(), StrCat("credential ", cred.resource_uri));
    CDH_RETURN_IF_ERROR(WriteFileAtomic(cred.path, bytes->RevealString(), 0600));
    spdlog::info("credential {} written to {}", cred.resource_uri, cred.path);
  }
  return absl::OkStatus();
}

}  // namespace cdh
