#include "image/policy/sigstore_verifier.h"

#include <spdlog/spdlog.h>

#include "common/base64.h"
#include "common/json.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "image/policy/signature_payload.h"

namespace cdh::image {
namespace {

using nlohmann::json;

constexpr std::string_view kOciManifestMediaType = "application/vnd.oci.image.manifest.v1+json";

struct SignatureLayer {
  std::string digest;
  std::string signature_b64;
};

// The signature layers of a `.sig` manifest. PERMISSION_DENIED when it is not an image manifest.
absl::StatusOr<std::vector<SignatureLayer>> SignatureLayers(const std::string& bytes, const std::string& tag) {
  auto manifest = ParseJson(bytes, "signature manifest");
  if (!manifest.ok() || !manifest->is_object()) {
    return absl::PermissionDeniedError(StrCat("signature manifest `", tag, "` is not valid JSON"));
  }
  if (auto mt = manifest->find("mediaType"); mt != manifest->end()) {
    if (!mt->is_string() || mt->get<std::string>() != kOciManifestMediaType) {
      return absl::PermissionDeniedError(StrCat("signature manifest `", tag, "` is not an OCI image manifest"));
    }
  }
  auto layers = manifest->find("layers");
  if (layers == manifest->end() || !layers->is_array()) {
    return absl::PermissionDeniedError(StrCat("signature manifest `", tag, "` has no layers"));
  }
  if (layers->size() > kMaxSignatureLayers) {
    return absl::PermissionDeniedError(
        StrCat("signature manifest `", tag, "` has more than ", kMaxSignatureLayers, " signatures"));
  }
  std::vector<SignatureLayer> out;
  for (const json& layer : *layers) {
    if (!layer.is_object()) continue;
    auto mt = layer.find("mediaType");
    auto digest = layer.find("digest");
    auto annotations = layer.find("annotations");
    if (mt == layer.end() || !mt->is_string() || mt->get<std::string>() != kCosignSimpleSigningMediaType) continue;
    if (digest == layer.end() || !digest->is_string()) continue;
    if (annotations == layer.end() || !annotations->is_object()) continue;
    auto sig = annotations->find(kCosignSignatureAnnotation);
    if (sig == annotations->end() || !sig->is_string()) continue;
    out.push_back({digest->get<std::string>(), sig->get<std::string>()});
  }
  return out;
}

std::string StripNewlines(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c != '\r' && c != '\n') out.push_back(c);
  }
  return out;
}

}  // namespace

bool IsFetchFailure(const absl::Status& s) {
  return s.code() == absl::StatusCode::kUnavailable || s.code() == absl::StatusCode::kDeadlineExceeded ||
         s.code() == absl::StatusCode::kUnauthenticated || s.code() == absl::StatusCode::kInternal;
}

std::string SigstoreAttachmentTag(const Digest& digest) {
  std::string s = digest.String();
  if (size_t colon = s.find(':'); colon != std::string::npos) s[colon] = '-';
  return s + ".sig";
}

absl::Status VerifySigstoreSigned(const std::vector<crypto::SignaturePublicKey>& keys,
                                  const std::optional<SignedIdentity>& identity, const ImageReference& image,
                                  const std::vector<Digest>& candidate_digests, RegistryClient& registry,
                                  const CallContext& ctx) {
  // The most informative reason why nothing was accepted: later stages override earlier ones.
  std::string reason = "no sigstore signature found";
  int stage = 0;
  auto note = [&](int s, std::string why) {
    if (s >= stage) {
      stage = s;
      reason = std::move(why);
    }
  };
  for (const Digest& candidate : candidate_digests) {
    const std::string tag = SigstoreAttachmentTag(candidate);
    auto manifest = registry.GetManifest(image, tag, ctx);
    if (!manifest.ok()) {
      if (manifest.status().code() == absl::StatusCode::kNotFound) {
        note(0, StrCat("no sigstore signature found (tag `", tag, "` does not exist)"));
        continue;
      }
      if (IsFetchFailure(manifest.status()))
        return Annotate(manifest.status(), StrCat("fetching signatures `", tag, "`"));
      note(1, StrCat("signature manifest `", tag, "`: ", ToStd(manifest.status().message())));
      continue;
    }
    auto layers = SignatureLayers(manifest->bytes, tag);
    if (!layers.ok()) {
      note(1, std::string(ToStd(layers.status().message())));
      continue;
    }
    if (layers->empty()) note(1, StrCat("signature manifest `", tag, "` holds no cosign signature layer"));
    for (const SignatureLayer& layer : *layers) {
      auto layer_digest = Digest::Parse(layer.digest);
      if (!layer_digest.ok()) {
        note(2, "a signature layer has a malformed digest");
        continue;
      }
      auto payload = registry.GetBlob(image, *layer_digest, kMaxSignaturePayloadSize, ctx);
      if (!payload.ok()) {
        if (IsFetchFailure(payload.status())) return Annotate(payload.status(), "fetching a signature payload");
        note(2, StrCat("signature payload ", layer.digest, ": ", ToStd(payload.status().message())));
        continue;
      }
      auto signature = Base64StdDecode(StripNewlines(layer.signature_b64));
      if (!signature.ok()) {
        note(3, "a signature annotation is not standard base64");
        continue;
      }
      bool verified = false;
      for (const crypto::SignaturePublicKey& key : keys) verified = verified || key.Verify(*payload, *signature).ok();
      if (!verified) {
        note(3, "no signature verifies with the policy's key");
        continue;
      }
      auto parsed = ParseSignaturePayload(*payload);
      if (!parsed.ok()) {
        note(4, StrCat("a verified signature has a malformed payload: ", ToStd(parsed.status().message())));
        continue;
      }
      if (parsed->type != kCosignSignatureType) {
        note(4, StrCat("a verified signature has type `", Sanitize(parsed->type, 48), "`, not `", kCosignSignatureType,
                       "`"));
        continue;
      }
      if (parsed->manifest_digest != candidate.String()) {
        note(5, StrCat("a verified signature is for manifest ", Sanitize(parsed->manifest_digest, 80), ", not ",
                       candidate.String()));
        continue;
      }
      std::string why;
      if (identity.has_value() && !IdentityMatches(*identity, image, parsed->docker_reference, &why)) {
        note(6, StrCat("signed identity does not match (", identity->TypeName(), "): ", why));
        continue;
      }
      spdlog::info("image policy: sigstore signature for {} verified ({}, signed reference `{}`)", candidate.String(),
                   keys.empty() ? "" : keys.front().AlgorithmName(), Sanitize(parsed->docker_reference));
      return absl::OkStatus();
    }
  }
  return absl::PermissionDeniedError(reason);
}

}  // namespace cdh::image
