// secret: seal and unseal sealed secrets, and make signing keys (cdh-api.md §13, same
// subcommands and flags as upstream's `secret` tool). Differences from upstream, on purpose:
// `seal vault` prints its provisioning reminder on stderr, so `$(secret seal …)` captures only
// the sealed string; `unseal` can take the daemon's config (-c) to resolve KBS-URI kids and
// vault names; `seal envelope` has a `kbs` provider (the KEK is a broker resource; the person
// sealing holds the same key in a file) instead of the cloud KMS clients.
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include <CLI/CLI.hpp>

#include "common/base64.h"
#include "common/file_util.h"
#include "common/json.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "crypto/ec_p256.h"
#include "daemon/composition.h"
#include "daemon/config.h"
#include "resources/secret/envelope.h"
#include "resources/secret/sealed_secret.h"

namespace {

int Fail(std::string_view what, const absl::Status& status) {
  std::cerr << "secret: " << what << ": " << status.message() << std::endl;
  return 1;
}

int Keygen(const std::string& kid, const std::string& dir) {
  std::string priv_path = (std::filesystem::path(dir) / (kid + "-private.json")).string();
  std::string pub_path = (std::filesystem::path(dir) / (kid + "-public.json")).string();
  if (std::filesystem::exists(priv_path) || std::filesystem::exists(pub_path)) {
    return Fail("keygen",
                absl::AlreadyExistsError(cdh::StrCat(priv_path, " or ", pub_path, " already exists; not overwriting")));
  }
  auto key = cdh::crypto::EcP256PrivateKey::Generate();
  if (!key.ok()) return Fail("keygen", key.status());
  nlohmann::json members = {{"alg", "ES256"}, {"use", "sig"}, {"kid", kid}};
  cdh::SecretBytes priv = key->ToPrivateJwkString(members);
  nlohmann::json pub = key->ToPublicJwk();
  for (auto it = members.begin(); it != members.end(); ++it) pub[it.key()] = it.value();
  if (auto s = cdh::WriteFileAtomic(priv_path, priv.RevealString(), 0600); !s.ok()) return Fail("keygen", s);
  if (auto s = cdh::WriteFileAtomic(pub_path, pub.dump(), 0644); !s.ok()) return Fail("keygen", s);
  std::cout << "private key: " << priv_path << "\npublic key:  " << pub_path << std::endl;
  return 0;
}

absl::StatusOr<nlohmann::json> JsonObjectArg(const std::string& text, std::string_view flag) {
  auto j = cdh::ParseJson(text, flag);
  if (!j.ok() || !j->is_object()) {
    return absl::InvalidArgumentError(cdh::StrCat(flag, " must be a JSON object, e.g. '{}'"));
  }
  return *j;
}

absl::StatusOr<cdh::crypto::EcP256PrivateKey> LoadSigningKey(const std::string& jwk_path) {
  auto jwk_text = cdh::ReadSecretFile(jwk_path, 64 << 10);
  if (!jwk_text.ok()) return cdh::Annotate(jwk_text.status(), "cannot read --signing-jwk-path");
  auto jwk = cdh::ParseJson(jwk_text->RevealString(), "signing JWK");
  if (!jwk.ok()) return jwk.status();
  auto key = cdh::crypto::EcP256PrivateKey::FromJwk(*jwk);
  if (auto it = jwk->find("d"); it != jwk->end() && it->is_string()) {
    cdh::SecretBytes::WipeForeign(it->get_ref<std::string&>());  // the JSON library's copy
  }
  if (!key.ok()) return cdh::Annotate(key.status(), "signing JWK (an EC P-256 private JWK with `d` is needed)");
  return key;
}

// Prints "sealed." + a compact ES256 JWS of `payload_json` (cdh-api.md §7.1).
int PrintSealed(const cdh::crypto::EcP256PrivateKey& key, const std::string& kid, const std::string& payload_json) {
  nlohmann::ordered_json header;  // member order as upstream's tool writes it
  header["b64"] = true;
  header["alg"] = "ES256";
  header["kid"] = kid;
  std::string signing_input = cdh::StrCat(cdh::Base64UrlEncode(header.dump()), ".", cdh::Base64UrlEncode(payload_json));
  auto signature = key.SignEs256(signing_input);
  if (!signature.ok()) return Fail("seal", signature.status());
  std::cout << cdh::resources::kSealedPrefix << signing_input << "." << cdh::Base64UrlEncode(*signature) << std::endl;
  return 0;
}

int SealEnvelope(const std::string& kid, const std::string& jwk_path, const std::string& key_id,
                 const std::string& file_path, const std::string& kek_path) {
  auto key = LoadSigningKey(jwk_path);
  if (!key.ok()) return Fail("seal", key.status());
  auto kek = cdh::ReadSecretFile(kek_path, 1024);
  if (!kek.ok()) return Fail("cannot read --kek-path", kek.status());
  auto plaintext = cdh::ReadSecretFile(file_path, 512 << 10);
  if (!plaintext.ok()) return Fail("cannot read --file-path", plaintext.status());
  auto envelope = cdh::resources::SealEnvelopeForKbs(plaintext->RevealString(), *kek, key_id);
  if (!envelope.ok()) return Fail("seal envelope", envelope.status());
  return PrintSealed(*key, kid, cdh::resources::SerializeEnvelopePayload(*envelope));
}

int SealVault(const std::string& kid, const std::string& jwk_path, const std::string& uri, const std::string& provider,
              const std::string& settings, const std::string& annotations) {
  auto key = LoadSigningKey(jwk_path);
  if (!key.ok()) return Fail("seal", key.status());
  auto settings_json = JsonObjectArg(settings, "--provider-settings");
  if (!settings_json.ok()) return Fail("seal", settings_json.status());
  auto annotations_json = JsonObjectArg(annotations, "--annotations");
  if (!annotations_json.ok()) return Fail("seal", annotations_json.status());

  cdh::resources::VaultSecret vault{uri, cdh::AsciiToLower(provider), *settings_json, *annotations_json};
  std::cerr << "Warning: Secrets must be provisioned to provider separately." << std::endl;
  return PrintSealed(*key, kid, cdh::resources::SerializeVaultPayload(vault));
}

int Unseal(const std::string& file, const std::string& config_path, const std::string& kbc_params,
           const std::string& kid_dir, bool skip_verification) {
  cdh::ConfigSources sources;
  for (const char* name : {"AA_KBC_PARAMS", "OFFLINE_FS_KBC_EXTRA_FILE_PATH"}) {
    if (const char* v = std::getenv(name); v != nullptr) sources.env[name] = v;
  }
  if (!kbc_params.empty()) sources.env["AA_KBC_PARAMS"] = kbc_params;
  if (!config_path.empty()) {
    auto text = cdh::ReadFileBounded(config_path, 1 << 20);
    if (!text.ok()) return Fail("cannot read config file", text.status());
    sources.file_path = config_path;
    sources.file_text = *text;
  }
  auto config = cdh::LoadConfig(sources, cdh::BuiltinPlugins());
  if (!config.ok()) return Fail("invalid configuration", config.status());
  if (skip_verification) config->skip_sealed_secret_verification = true;
  if (!kid_dir.empty()) config->sealed_secret_key_dir = kid_dir;
  auto hub = cdh::BuildHub(*config);
  if (!hub.ok()) return Fail("cannot initialise", hub.status());

  auto sealed = cdh::ReadFileBounded(file, cdh::resources::kMaxSealedSecretSize + 64);
  if (!sealed.ok()) return Fail("cannot read -f file", sealed.status());
  std::string out_path = file + ".unsealed";
  if (std::filesystem::exists(out_path)) {
    return Fail("unseal", absl::AlreadyExistsError(cdh::StrCat(out_path, " already exists; not overwriting")));
  }
  auto plaintext = (*hub)->UnsealSecret(*sealed, cdh::CallContext::WithTimeout(absl::Seconds(60)));
  if (!plaintext.ok()) return Fail("unseal", plaintext.status());
  if (auto s = cdh::WriteFileAtomic(out_path, plaintext->RevealString(), 0600); !s.ok()) return Fail("unseal", s);
  std::cout << "unsealed secret written to " << out_path << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Seal and unseal Confidential Containers sealed secrets", "secret"};
  app.require_subcommand(1);

  auto* keygen = app.add_subcommand("keygen", "Make an EC P-256 signing key pair (JWK files)");
  std::string kid = "sealed-signing", out_dir = ".";
  keygen->add_option("--kid", kid, "Key id, also the file name prefix")->capture_default_str();
  keygen->add_option("--output-dir", out_dir, "Directory for <kid>-private.json and <kid>-public.json")
      ->capture_default_str();

  auto* seal = app.add_subcommand("seal", "Seal a secret pointer and sign it");
  std::string signing_kid, jwk_path;
  seal->add_option("--signing-kid", signing_kid,
                   "kid put in the JWS header: a KBS resource URI of the public key, or a key name")
      ->required();
  seal->add_option("--signing-jwk-path", jwk_path, "Private JWK file made by `secret keygen`")->required();
  seal->require_subcommand(1);
  auto* vault = seal->add_subcommand("vault", "The secret stays with the provider; the pointer names it");
  std::string resource_uri, provider, provider_settings = "{}", annotations = "{}";
  vault->add_option("-r,--resource-uri", resource_uri, "Name of the secret, e.g. kbs:///default/key/1")->required();
  vault->add_option("-p,--provider", provider, "Provider holding it: kbs")->required();
  vault->add_option("--provider-settings", provider_settings, "JSON object")->capture_default_str();
  vault->add_option("-a,--annotations", annotations, "JSON object")->capture_default_str();
  auto* envelope = seal->add_subcommand("envelope", "The secret travels encrypted; a KMS key wraps its data key");
  std::string key_id, plain_path, kek_path;
  envelope
      ->add_option("-k,--key-id", key_id, "KMS key id of the KEK; for kbs a resource URI, e.g. kbs:///default/kek/1")
      ->required();
  envelope->add_option("-f,--file-path", plain_path, "File holding the secret to seal")->required();
  envelope->require_subcommand(1);
  auto* env_kbs = envelope->add_subcommand("kbs", "KEK held by the KBS (ours; the sealer holds the same 32-byte key)");
  env_kbs->add_option("--kek-path", kek_path, "File holding the raw 32-byte KEK")->required();

  auto* unseal = app.add_subcommand("unseal", "Verify and unseal a sealed secret file into <file>.unsealed");
  std::string file, config_path, kbc_params, kid_dir, key_path;
  bool skip = false;
  unseal->add_option("-f,--file-path", file, "File holding the sealed secret")->required();
  unseal->add_option("-c,--config", config_path, "Data hub configuration (resource provider, key directory)");
  unseal->add_option("-a,--aa-kbc-params", kbc_params, "<kbc>::<url>, e.g. offline_fs_kbc::null");
  unseal->add_option("--kid-dir", kid_dir, "Directory of local verification keys (for a kid that is not a URI)");
  unseal->add_option("-k,--key-path", key_path, "KMS credential directory (accepted for compatibility; unused)");
  unseal->add_flag("-s,--skip-verification", skip, "Accept the legacy unsigned form");

  CLI11_PARSE(app, argc, argv);
  if (keygen->parsed()) return Keygen(kid, out_dir);
  if (vault->parsed()) return SealVault(signing_kid, jwk_path, resource_uri, provider, provider_settings, annotations);
  if (env_kbs->parsed()) return SealEnvelope(signing_kid, jwk_path, key_id, plain_path, kek_path);
  if (unseal->parsed()) {
    return Unseal(file, config_path, kbc_params, kid_dir, skip);
  }
  return 0;
}
