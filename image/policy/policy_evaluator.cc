#include "image/policy/policy_evaluator.h"

#include <spdlog/spdlog.h>

#include "common/file_util.h"
#include "common/json.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "crypto/signature_public_key.h"
#include "image/policy/gpg_keyring.h"
#include "image/policy/signature_payload.h"
#include "image/policy/sigstore_verifier.h"

namespace cdh::image {
namespace {

// Simple-signing signatures read per digest from a lookaside (signature-1 … signature-N).
constexpr int kMaxLookasideSignatures = 64;
constexpr std::string_view kDeniedPrefix = "Image policy rejected: Denied by policy: ";

std::string TypesOf(const PolicyRequirements& reqs) {
  std::vector<std::string> names;
  for (const PolicyRequirement& r : reqs) names.emplace_back(r.TypeName());
  return StrJoin(names, "+");
}

// Whether the index or list in `bytes` lists `digest` among its manifests.
bool IndexLists(const std::string& bytes, const Digest& digest) {
  auto index = ParseJson(bytes, "image index");
  if (!index.ok() || !index->is_object()) return false;
  auto manifests = index->find("manifests");
  if (manifests == index->end() || !manifests->is_array()) return false;
  for (const nlohmann::json& m : *manifests) {
    if (m.is_object() && m.contains("digest") && m["digest"].is_string() &&
        m["digest"].get<std::string>() == digest.String()) {
      return true;
    }
  }
  return false;
}

}  // namespace

PolicyEvaluator::PolicyEvaluator(std::optional<Policy> policy, KeyResolver* keys, LookasideConfig lookaside,
                                 PolicyEvaluatorOptions options)
    : policy_(std::move(policy)), keys_(keys), lookaside_(std::move(lookaside)), options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<PolicyEvaluator>> PolicyEvaluator::New(std::string_view policy_json, KeyResolver& keys,
                                                                      PolicyEvaluatorOptions options) {
  CDH_ASSIGN_OR_RETURN(Policy policy, Policy::Parse(policy_json));
  CDH_ASSIGN_OR_RETURN(LookasideConfig lookaside, LookasideConfig::Parse(options.sigstore_config_yaml));
  std::unique_ptr<PolicyEvaluator> evaluator(
      new PolicyEvaluator(std::move(policy), &keys, std::move(lookaside), std::move(options)));
  return evaluator;
}

absl::StatusOr<std::unique_ptr<PolicyEvaluator>> PolicyEvaluator::New(std::string_view policy_json,
                                                                      std::unique_ptr<KeyResolver> keys,
                                                                      PolicyEvaluatorOptions options) {
  if (keys == nullptr) return absl::InvalidArgumentError("PolicyEvaluator: no key resolver");
  CDH_ASSIGN_OR_RETURN(std::unique_ptr<PolicyEvaluator> evaluator, New(policy_json, *keys, std::move(options)));
  evaluator->owned_keys_ = std::move(keys);
  return evaluator;
}

std::unique_ptr<PolicyEvaluator> PolicyEvaluator::NewWithoutPolicy() {
  return std::unique_ptr<PolicyEvaluator>(new PolicyEvaluator(std::nullopt, nullptr, LookasideConfig(), {}));
}

std::string PolicyEvaluator::Describe() const {
  if (!policy_.has_value()) {
    return "No `image_security_policy` given, thus all images can be pulled by the image client without filtering";
  }
  std::vector<std::string> scopes;
  for (const auto& [scope, reqs] : policy_->docker_scopes()) {
    scopes.push_back(StrCat("\"", Sanitize(scope, 128), "\": ", TypesOf(reqs)));
  }
  return StrCat("policy in force: default ", TypesOf(policy_->default_requirements()), "; docker scopes {",
                StrJoin(scopes, ", "), "}");
}

absl::Status PolicyEvaluator::Verify(const ImageReference& requested, const Digest& manifest_digest,
                                     RegistryClient& registry, const CallContext& ctx) {
  if (!policy_.has_value()) return absl::OkStatus();
  Policy::Selection selection = policy_->RequirementsFor(requested);
  const std::string image = requested.String();
  spdlog::info("image policy: {} ({}) matched scope \"{}\": {}", Sanitize(image, 256), manifest_digest.String(),
               Sanitize(selection.scope, 128), TypesOf(*selection.requirements));
  std::vector<Digest> candidates;  // filled on first use by a signature requirement
  for (const PolicyRequirement& req : *selection.requirements) {
    absl::Status s = Evaluate(req, requested, manifest_digest, registry, ctx, candidates);
    if (s.ok()) continue;
    if (s.code() != absl::StatusCode::kPermissionDenied) {
      return Annotate(s, StrCat("Image policy: evaluating `", req.TypeName(), "` for ", Sanitize(image, 256)));
    }
    if (req.type == PolicyRequirement::Type::kReject) {
      return absl::PermissionDeniedError(StrCat(kDeniedPrefix, "Policy `reject` rejects image ", Sanitize(image, 256),
                                                " (scope \"", Sanitize(selection.scope, 128), "\")"));
    }
    return absl::PermissionDeniedError(StrCat(kDeniedPrefix, "image ", Sanitize(image, 256), " rejected by `",
                                              req.TypeName(), "` requirement (scope \"", Sanitize(selection.scope, 128),
                                              "\"): ", ToStd(s.message())));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Digest>> PolicyEvaluator::CandidateDigests(const ImageReference& image,
                                                                      const Digest& manifest_digest,
                                                                      RegistryClient& registry,
                                                                      const CallContext& ctx) {
  std::vector<Digest> out = {manifest_digest};
  auto top = registry.GetManifest(image, image.TagOrDigest(), ctx);
  if (!top.ok()) {
    if (IsFetchFailure(top.status())) return top.status();
    return out;  // the platform digest alone
  }
  if (top->digest.String() != manifest_digest.String() && IndexLists(top->bytes, manifest_digest)) {
    out.push_back(top->digest);
  }
  return out;
}

absl::StatusOr<std::string> PolicyEvaluator::KeyBytes(const KeySource& source, const CallContext& ctx) {
  if (source.kind == KeySource::Kind::kData) return source.value;
  {
    absl::MutexLock lock(&mu_);
    if (auto it = key_cache_.find(source.value); it != key_cache_.end()) return it->second;
  }
  auto bytes = keys_->ReadKey(source.value, ctx);
  if (!bytes.ok()) return Annotate(bytes.status(), StrCat("reading the policy's key `", Sanitize(source.value), "`"));
  absl::MutexLock lock(&mu_);
  key_cache_.emplace(source.value, *bytes);
  return *bytes;
}

absl::Status PolicyEvaluator::Evaluate(const PolicyRequirement& req, const ImageReference& image,
                                       const Digest& manifest_digest, RegistryClient& registry, const CallContext& ctx,
                                       std::vector<Digest>& candidates) {
  switch (req.type) {
    case PolicyRequirement::Type::kInsecureAcceptAnything:
      return absl::OkStatus();
    case PolicyRequirement::Type::kReject:
      return absl::PermissionDeniedError("rejected");
    case PolicyRequirement::Type::kSigstoreSigned:
    case PolicyRequirement::Type::kSignedBy:
      break;
  }
  if (candidates.empty()) {
    CDH_ASSIGN_OR_RETURN(candidates, CandidateDigests(image, manifest_digest, registry, ctx));
  }
  if (req.type == PolicyRequirement::Type::kSignedBy) return VerifySignedBy(req, image, candidates, ctx);

  std::vector<crypto::SignaturePublicKey> keys;
  for (const KeySource& source : req.keys) {
    CDH_ASSIGN_OR_RETURN(std::string pem, KeyBytes(source, ctx));
    auto key = crypto::SignaturePublicKey::FromPem(pem);
    if (!key.ok()) {
      return Annotate(key.status(), source.kind == KeySource::Kind::kPath
                                        ? StrCat("the policy's key `", Sanitize(source.value), "`")
                                        : std::string("the policy's keyData"));
    }
    keys.push_back(*std::move(key));
  }
  if (!req.signed_identity.has_value()) {
    spdlog::warn(
        "image policy: sigstoreSigned requirement without signedIdentity: the signed reference of {} is not "
        "checked, only its digest (as image-rs does)",
        Sanitize(image.String(), 256));
  }
  return VerifySigstoreSigned(keys, req.signed_identity, image, candidates, registry, ctx);
}

absl::StatusOr<std::optional<std::string>> PolicyEvaluator::ReadLookaside(const std::string& url,
                                                                          const CallContext& ctx) {
  if (url.starts_with("file://")) {
    auto bytes = ReadFileBounded(url.substr(7), kMaxSignaturePayloadSize);
    if (bytes.status().code() == absl::StatusCode::kNotFound) return std::nullopt;
    if (!bytes.ok()) return bytes.status();
    return std::optional<std::string>(*std::move(bytes));
  }
  http::HttpRequest request{"GET", url, {}, ""};
  request.cancellation = ctx.cancellation;
  auto response = options_.lookaside_http->Send(request, ctx.deadline);
  if (!response.ok()) return response.status();
  if (response->status == 404) return std::nullopt;
  if (response->status >= 500) {
    return absl::UnavailableError(StrCat("signature lookaside answered HTTP ", response->status));
  }
  if (response->status != 200) {
    return absl::PermissionDeniedError(StrCat("signature lookaside answered HTTP ", response->status));
  }
  if (response->body.size() > kMaxSignaturePayloadSize) {
    return absl::PermissionDeniedError("a lookaside signature is larger than 64 KiB");
  }
  return std::optional<std::string>(std::move(response->body));
}

absl::Status PolicyEvaluator::VerifySignedBy(const PolicyRequirement& req, const ImageReference& image,
                                             const std::vector<Digest>& candidates, const CallContext& ctx) {
  std::optional<std::string> base = lookaside_.BaseUrlFor(image);
  if (!base.has_value()) {
    return absl::PermissionDeniedError(
        StrCat("no signature lookaside is configured for ", image.Name(), " (sigstore config)"));
  }
  const bool http = base->starts_with("http://") || base->starts_with("https://");
  if (!base->starts_with("file:///") && !(http && options_.lookaside_http != nullptr)) {
    return absl::UnimplementedError(StrCat("signature lookaside `", Sanitize(*base), "`: only file://",
                                           options_.lookaside_http != nullptr ? " and http(s)://" : "",
                                           " URLs are supported"));
  }
  std::vector<std::string> key_bytes;
  for (const KeySource& source : req.keys) {
    CDH_ASSIGN_OR_RETURN(std::string bytes, KeyBytes(source, ctx));
    key_bytes.push_back(std::move(bytes));
  }
  auto ring = GpgKeyring::New(key_bytes, options_.gnupg_parent_dir);
  if (!ring.ok()) return Annotate(ring.status(), "the policy's GPG keys");
  SignedIdentity identity = req.signed_identity.value_or(SignedIdentity{});  // matchRepoDigestOrExact
  std::string reason = StrCat("no signature found in the lookaside for ", image.Name());
  for (const Digest& digest : candidates) {
    for (int n = 1; n <= kMaxLookasideSignatures; ++n) {
      if (ctx.Expired()) return absl::DeadlineExceededError("verifying simple signatures");
      auto signature = ReadLookaside(LookasideConfig::SignatureUrl(*base, image, digest, n), ctx);
      if (!signature.ok()) {
        if (IsFetchFailure(signature.status())) return Annotate(signature.status(), "reading the signature lookaside");
        reason =
            StrCat("signature-", n, " for ", digest.String(), " cannot be read: ", ToStd(signature.status().message()));
        break;
      }
      if (!signature->has_value()) break;
      auto verified = (*ring)->Verify(**signature);
      if (!verified.ok()) {
        if (verified.status().code() != absl::StatusCode::kPermissionDenied) return verified.status();
        reason = std::string(ToStd(verified.status().message()));
        continue;
      }
      auto payload = ParseSignaturePayload(verified->payload);
      if (!payload.ok()) {
        reason = StrCat("a verified signature has a malformed payload: ", ToStd(payload.status().message()));
        continue;
      }
      if (payload->type != kSimpleSigningType) {
        reason =
            StrCat("a verified signature has type `", Sanitize(payload->type, 48), "`, not `", kSimpleSigningType, "`");
        continue;
      }
      if (payload->manifest_digest != digest.String()) {
        reason = StrCat("a verified signature is for manifest ", Sanitize(payload->manifest_digest, 80), ", not ",
                        digest.String());
        continue;
      }
      std::string why;
      if (!IdentityMatches(identity, image, payload->docker_reference, &why)) {
        reason = StrCat("signed identity does not match (", identity.TypeName(), "): ", why);
        continue;
      }
      spdlog::info("image policy: GPG signature for {} by key {} verified", digest.String(), verified->fingerprint);
      return absl::OkStatus();
    }
  }
  return absl::PermissionDeniedError(reason);
}

}  // namespace cdh::image
