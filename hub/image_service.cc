#include "hub/image_service.h"

#include <spdlog/spdlog.h>
#include <toml++/toml.h>

#include "common/file_util.h"
#include "common/json.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "http/curl_http_client.h"
#include "image/registry_auth.h"
#include "image/registry_config.h"
#include "resources/resource_uri.h"

namespace cdh {
namespace {

constexpr size_t kMaxImageResourceBytes = 4 << 20;

absl::Status ClientError(const absl::Status& st) {
  return absl::Status(st.code(), StrCat("Image Client error: ", ToStd(st.message())));
}

// registries.conf TOML → JSON (tables, arrays, strings, booleans, integers).
nlohmann::json TomlNodeToJson(const toml::node& node) {
  if (const auto* t = node.as_table()) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [k, v] : *t) out[std::string(k.str())] = TomlNodeToJson(v);
    return out;
  }
  if (const auto* a = node.as_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& v : *a) out.push_back(TomlNodeToJson(v));
    return out;
  }
  if (const auto* s = node.as_string()) return s->get();
  if (const auto* b = node.as_boolean()) return b->get();
  if (const auto* i = node.as_integer()) return i->get();
  return nullptr;
}

absl::StatusOr<nlohmann::json> ParseRegistriesConf(std::string_view text) {
  try {
    toml::table table = toml::parse(text);
    return TomlNodeToJson(table);
  } catch (const toml::parse_error&) {
    return absl::InvalidArgumentError("Malwared registry configuration: not TOML");
  }
}

}  // namespace

absl::StatusOr<SecretBytes> ReadImageResource(resources::ResourceProvider& provider, std::string_view uri,
                                              size_t max_bytes, const CallContext& ctx) {
  if (resources::ResourceUri::HasKbsScheme(uri)) {
    CDH_ASSIGN_OR_RETURN(resources::ResourceUri parsed, resources::ResourceUri::Parse(uri));
    CDH_ASSIGN_OR_RETURN(SecretBytes bytes, provider.GetResource(parsed, ctx));
    if (bytes.size() > max_bytes) {
      return absl::InvalidArgumentError(
          StrCat("resource ", parsed.ToString(), " is larger than ", max_bytes, " bytes"));
    }
    return bytes;
  }
  std::string_view path = uri;
  size_t scheme = uri.find("://");
  if (scheme != std::string_view::npos) {
    if (uri.substr(0, scheme) != "file") {
      return absl::InvalidArgumentError(
          StrCat("Resource URI scheme `", Sanitize(uri.substr(0, scheme), 32), "` not supported"));
    }
    path = uri.substr(scheme + 3);
  }
  return ReadSecretFile(std::string(path), max_bytes);
}

struct ImageService::Built {
  std::unique_ptr<http::HttpClient> http;
  std::unique_ptr<image::DefaultRegistryClientFactory> registries;
  std::unique_ptr<image::ImageVerifier> verifier;
  std::unique_ptr<image::LayerDecryptor> decryptor;
  std::unique_ptr<image::ImagePuller> puller;
};

ImageService::ImageService(ImagePullConfig config, resources::ResourceProvider& provider, ImageServiceDeps deps)
    : config_(std::move(config)), provider_(provider), deps_(std::move(deps)) {}
ImageService::~ImageService() = default;

absl::StatusOr<ImageService::Built*> ImageService::Build(const CallContext& ctx) {
  absl::MutexLock lock(&mu_);
  if (built_) return built_.get();
  auto built = std::make_unique<Built>();

  // The policy: the URI wins over the inline text (image-rs config.rs).
  std::optional<std::string> policy;
  if (!config_.image_security_policy_uri.empty()) {
    auto bytes = ReadImageResource(provider_, config_.image_security_policy_uri, kMaxImageResourceBytes, ctx);
    if (!bytes.ok()) {
      return ClientError(Annotate(bytes.status(), StrCat("Initialize resource provider failed: image security policy ",
                                                         Sanitize(config_.image_security_policy_uri))));
    }
    policy = std::string(bytes->RevealString());
  } else if (config_.image_security_policy) {
    policy = *config_.image_security_policy;
  }
  std::string sigstore;
  if (!config_.sigstore_config_uri.empty()) {
    auto bytes = ReadImageResource(provider_, config_.sigstore_config_uri, kMaxImageResourceBytes, ctx);
    if (!bytes.ok())
      return ClientError(Annotate(bytes.status(), "Initialize resource provider failed: sigstore config"));
    sigstore = std::string(bytes->RevealString());
  } else if (config_.sigstore_config) {
    sigstore = *config_.sigstore_config;
  }
  auto verifier = deps_.make_verifier(policy, sigstore);
  if (!verifier.ok()) return ClientError(Annotate(verifier.status(), "Initialize signature validator failed"));
  built->verifier = std::move(*verifier);
  auto decryptor = deps_.make_decryptor();
  if (!decryptor.ok()) return ClientError(decryptor.status());
  built->decryptor = std::move(*decryptor);

  // Registry credentials (auth.json), never logged.
  std::unique_ptr<image::RegistryAuthFile> auth;
  if (!config_.authenticated_registry_credentials_uri.empty()) {
    auto bytes =
        ReadImageResource(provider_, config_.authenticated_registry_credentials_uri, kMaxImageResourceBytes, ctx);
    if (!bytes.ok()) return ClientError(Annotate(bytes.status(), "Initialize auth module failed"));
    auto parsed = image::RegistryAuthFile::Parse(*bytes);
    if (!parsed.ok()) return ClientError(Annotate(parsed.status(), "Initialize auth module failed"));
    auth = std::move(*parsed);
    spdlog::info("image: registry credentials for {} registr{} loaded", auth->size(), auth->size() == 1 ? "y" : "ies");
  }

  // Registry configuration: the inline table wins over the URI.
  image::RegistryConfig registry_config;
  std::optional<nlohmann::json> registry_doc;
  if (config_.registry_config_json) {
    auto j = ParseJson(*config_.registry_config_json, "[image.registry_config]");
    if (!j.ok()) return ClientError(j.status());
    registry_doc = *j;
  } else if (!config_.registry_configuration_uri.empty()) {
    auto bytes = ReadImageResource(provider_, config_.registry_configuration_uri, kMaxImageResourceBytes, ctx);
    if (!bytes.ok())
      return ClientError(Annotate(bytes.status(), "Initialize resource provider failed: registry configuration"));
    auto j = ParseRegistriesConf(bytes->RevealString());
    if (!j.ok()) return ClientError(j.status());
    registry_doc = *j;
  }
  if (registry_doc) {
    auto parsed = image::RegistryConfig::FromJson(*registry_doc);
    if (!parsed.ok()) return ClientError(parsed.status());
    registry_config = std::move(*parsed);
  }

  http::CurlHttpClientOptions http_options;
  http_options.user_agent = "cdh-image/0.1";
  http_options.explicit_proxies = true;  // [image.image_pull_proxy], never the environment (spec §3.7)
  http_options.https_proxy = config_.https_proxy;
  http_options.http_proxy = config_.http_proxy;
  http_options.no_proxy = config_.no_proxy;
  for (const std::string& pem : config_.extra_root_certificates) StrAppend(&http_options.extra_ca_pem, pem, "\n");
  auto http = http::NewHttpClient(std::move(http_options));
  if (!http.ok()) return ClientError(http.status());
  built->http = std::move(*http);
  built->registries =
      std::make_unique<image::DefaultRegistryClientFactory>(*built->http, std::move(registry_config), std::move(auth));

  image::ImagePullerOptions options;
  options.work_dir = config_.work_dir;
  options.max_concurrent_layer_downloads = config_.max_concurrent_layer_downloads_per_image;
  auto puller =
      image::ImagePuller::New(options, *built->registries, *built->verifier, *built->decryptor, deps_.measurer.get());
  if (!puller.ok()) return ClientError(puller.status());
  built->puller = std::move(*puller);
  spdlog::info("image: work_dir {}, up to {} concurrent layer downloads per image", config_.work_dir,
               config_.max_concurrent_layer_downloads_per_image);
  built_ = std::move(built);
  return built_.get();
}

absl::StatusOr<std::string> ImageService::Pull(std::string_view image_url, std::string_view bundle_path,
                                               const CallContext& ctx) {
  CDH_ASSIGN_OR_RETURN(Built * built, Build(ctx));
  return built->puller->Pull(image_url, bundle_path, ctx);
}

}  // namespace cdh
