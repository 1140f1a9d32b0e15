#include "resources/secret/secret_unsealer.h"

#include <limits.h>
#include <stdlib.h>

#include "common/file_util.h"
#include "common/json.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace cdh::resources {
namespace {

// Resolves a local `kid` to a path inside `dir`, refusing every escape (cdh-api.md §7.2 step 5).
absl::StatusOr<std::string> ResolveLocalKid(std::string_view kid, const std::string& dir) {
  if (HasControlChars(kid) || kid.starts_with("/")) {
    return absl::InvalidArgumentError(
        "sealed secret `kid` must be a KBS resource URI or a key name relative to the key directory");
  }
  for (std::string_view part : StrSplit(kid, '/')) {
    if (part == "..") return absl::InvalidArgumentError("sealed secret `kid` must not contain `..`");
  }
  if (dir.empty()) {
    return absl::FailedPreconditionError(
        "sealed secret `kid` is not a KBS resource URI and no key directory is configured");
  }
  char real_dir[PATH_MAX];
  if (realpath(dir.c_str(), real_dir) == nullptr) {
    return absl::FailedPreconditionError(StrCat("sealed secret `kid` `", Sanitize(kid),
                                                "` is not a KBS resource URI and the key directory ", dir,
                                                " does not exist"));
  }
  std::string joined = StrCat(real_dir, "/", kid);
  char real_key[PATH_MAX];
  if (realpath(joined.c_str(), real_key) == nullptr) {
    return absl::NotFoundError(StrCat("verification key `", Sanitize(kid), "` not found in ", dir));
  }
  std::string_view resolved(real_key);
  if (!resolved.starts_with(StrCat(real_dir, "/"))) {
    return absl::InvalidArgumentError(
        StrCat("sealed secret `kid` `", Sanitize(kid), "` resolves outside the key directory"));
  }
  return std::string(resolved);
}

}  // namespace

absl::StatusOr<SecretBytes> KbsSecretGetter::GetSecret(const VaultSecret& secret, const CallContext& ctx) {
  auto uri = ResourceUri::Parse(secret.name);
  if (!uri.ok()) {
    return absl::InvalidArgumentError(
        StrCat("vault secret `name` must be a KBS resource URI for provider kbs: ", uri.status().message()));
  }
  return provider_.GetResource(*uri, ctx);
}

SecretUnsealer::SecretUnsealer(SecretUnsealerOptions options, ResourceProvider& kid_provider,
                               std::map<std::string, std::unique_ptr<SecretGetter>> vault_getters,
                               EnvelopeDecryptor* envelope)
    : options_(std::move(options)),
      kid_provider_(kid_provider),
      vault_getters_(std::move(vault_getters)),
      envelope_(envelope) {}

absl::StatusOr<crypto::EcP256PublicKey> SecretUnsealer::VerificationKey(std::string_view kid, const CallContext& ctx) {
  bool from_cache = false;
  return VerificationKeyImpl(kid, ctx, /*use_cache=*/true, &from_cache);
}

absl::StatusOr<crypto::EcP256PublicKey> SecretUnsealer::VerificationKeyImpl(std::string_view kid,
                                                                            const CallContext& ctx, bool use_cache,
                                                                            bool* from_cache) {
  *from_cache = false;
  SecretBytes key_bytes;
  bool cacheable = false;
  if (ResourceUri::HasKbsScheme(kid)) {
    if (use_cache && options_.kid_cache_ttl > absl::ZeroDuration()) {
      absl::MutexLock lock(&kid_cache_mu_);
      auto it = kid_cache_.find(kid);
      if (it != kid_cache_.end() && absl::Now() < it->second.expires) {
        auto jwk = ParseJson(it->second.jwk, "verification key");
        if (jwk.ok()) {
          auto key = crypto::EcP256PublicKey::FromJwk(*jwk);
          if (key.ok()) {
            *from_cache = true;
            return key;
          }
        }
      }
    }
    auto uri = ResourceUri::Parse(kid);
    if (!uri.ok()) return Annotate(uri.status(), "sealed secret `kid`");
    auto fetched = kid_provider_.GetResource(*uri, ctx);
    if (!fetched.ok()) return Annotate(fetched.status(), "fetching the verification key");
    key_bytes = std::move(*fetched);
    cacheable = options_.kid_cache_ttl > absl::ZeroDuration();
  } else {
    CDH_ASSIGN_OR_RETURN(std::string path, ResolveLocalKid(kid, options_.key_dir));
    auto read = ReadSecretFile(path, kMaxKeyFileSize);
    if (!read.ok()) return Annotate(read.status(), "reading the verification key");
    key_bytes = std::move(*read);
  }
  auto jwk = ParseJson(key_bytes.RevealString(), "verification key");
  if (!jwk.ok()) {
    return absl::InvalidArgumentError(StrCat("verification key `", Sanitize(kid), "` is not a JWK (JSON)"));
  }
  auto key = crypto::EcP256PublicKey::FromJwk(*jwk);
  if (!key.ok()) return Annotate(key.status(), StrCat("verification key `", Sanitize(kid), "`"));
  if (cacheable) {
    absl::MutexLock lock(&kid_cache_mu_);
    absl::Time now = absl::Now();
    if (kid_cache_.size() >= kMaxCachedKids) {
      std::erase_if(kid_cache_, [now](const auto& kv) { return kv.second.expires <= now; });
      if (kid_cache_.size() >= kMaxCachedKids) kid_cache_.clear();
    }
    kid_cache_[std::string(kid)] = CachedKid{std::string(key_bytes.RevealString()), now + options_.kid_cache_ttl};
  }
  return key;
}

absl::StatusOr<SecretBytes> SecretUnsealer::Unseal(std::string_view sealed_secret, const CallContext& ctx) {
  if (options_.skip_verification) {
    CDH_ASSIGN_OR_RETURN(std::string payload, ParseLegacySealedSecret(sealed_secret));
    return UnsealPayload(payload, ctx);
  }
  CDH_ASSIGN_OR_RETURN(SignedSealedSecret jws, ParseSignedSealedSecret(sealed_secret));
  if (jws.alg != "ES256") {
    return absl::InvalidArgumentError(StrCat("sealed secret `alg` must be ES256, got `", Sanitize(jws.alg, 16), "`"));
  }
  if (jws.signature.size() != 64) {
    return absl::InvalidArgumentError(
        StrCat("sealed secret signature must be 64 bytes (ES256 r||s), got ", jws.signature.size()));
  }
  bool from_cache = false;
  CDH_ASSIGN_OR_RETURN(crypto::EcP256PublicKey key, VerificationKeyImpl(jws.kid, ctx, /*use_cache=*/true, &from_cache));
  if (from_cache && !key.VerifyEs256(jws.signing_input, jws.signature).ok()) {
    // The key may have been rotated on the broker since it was cached: check the current one.
    CDH_ASSIGN_OR_RETURN(key, VerificationKeyImpl(jws.kid, ctx, /*use_cache=*/false, &from_cache));
  }
  if (!key.VerifyEs256(jws.signing_input, jws.signature).ok()) {
    return absl::PermissionDeniedError(
        StrCat("sealed secret signature does not verify with key `", Sanitize(jws.kid), "`"));
  }
  return UnsealPayload(jws.payload_json, ctx);
}

absl::StatusOr<SecretBytes> SecretUnsealer::UnsealPayload(std::string_view payload_json, const CallContext& ctx) {
  CDH_ASSIGN_OR_RETURN(SecretPayload payload, ParseSecretPayload(payload_json));
  if (auto* vault = std::get_if<VaultSecret>(&payload)) {
    auto it = vault_getters_.find(vault->provider);
    if (it == vault_getters_.end()) {
      std::vector<std::string> names;
      for (const auto& [name, getter] : vault_getters_) names.push_back(name);
      return absl::UnimplementedError(StrCat("vault provider `", Sanitize(vault->provider, 32),
                                             "` is not supported (available: ", StrJoin(names, ", "), ")"));
    }
    return it->second->GetSecret(*vault, ctx);
  }
  auto& envelope = std::get<EnvelopeSecret>(payload);
  if (envelope_ == nullptr) return absl::UnimplementedError("envelope secrets are not supported by this build");
  return envelope_->Decrypt(envelope, ctx);
}

}  // namespace cdh::resources
