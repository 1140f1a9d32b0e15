// Image signature policy (image/policy/): byte 0 picks
//   0 policy.json (containers-policy.json.5) through Policy::Parse, then the requirements
//     chosen for a few images and each signedIdentity matched against a signed reference;
//   1 a signature payload (simple signing / cosign, signature_payload.h), whose signed
//     reference is matched under every signedIdentity type;
//   2 the lookaside (sigstore) registries.d configuration (lookaside_config.h) and the
//     signature URLs it yields.
#include <vector>

#include "fuzz/fuzz_util.h"
#include "image/digest.h"
#include "image/policy/lookaside_config.h"
#include "image/policy/policy.h"
#include "image/policy/signature_payload.h"
#include "image/reference.h"

namespace cdh::image {
namespace {

const std::vector<ImageReference>& Images() {
  static const std::vector<ImageReference> images = [] {
    std::vector<ImageReference> out;
    for (const char* text : {"docker.io/library/busybox:latest",
                             "quay.io/org/app@sha256:"
                             "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                             "127.0.0.1:5000/fraud/detector:v1"}) {
      out.push_back(std::move(ImageReference::Parse(text)).value());
    }
    return out;
  }();
  return images;
}

void MatchAll(const SignedIdentity& identity, std::string_view signed_reference) {
  for (const ImageReference& image : Images()) {
    std::string why;
    (void)IdentityMatches(identity, image, signed_reference, &why);
  }
}

}  // namespace
}  // namespace cdh::image

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cdh::image;  // NOLINT
  if (size == 0) return 0;
  const std::string_view input = cdh::fuzz::AsView(data + 1, size - 1);
  switch (data[0] % 3) {
    case 0: {
      absl::StatusOr<Policy> policy = Policy::Parse(input);
      if (!policy.ok()) break;
      for (const ImageReference& image : Images()) {
        Policy::Selection selection = policy->RequirementsFor(image);
        FUZZ_CHECK(selection.requirements != nullptr);
        for (const PolicyRequirement& requirement : *selection.requirements) {
          if (requirement.signed_identity.has_value()) {
            MatchAll(*requirement.signed_identity, "docker.io/library/busybox:latest");
            MatchAll(*requirement.signed_identity, image.String());
          }
        }
      }
      break;
    }
    case 1: {
      absl::StatusOr<SignaturePayload> payload = ParseSignaturePayload(input);
      if (!payload.ok()) break;
      (void)Digest::Parse(payload->manifest_digest);
      for (auto type : {SignedIdentity::Type::kMatchExact, SignedIdentity::Type::kMatchRepoDigestOrExact,
                        SignedIdentity::Type::kMatchRepository, SignedIdentity::Type::kExactReference,
                        SignedIdentity::Type::kExactRepository, SignedIdentity::Type::kRemapIdentity}) {
        SignedIdentity identity;
        identity.type = type;
        identity.docker_reference = "docker.io/library/busybox:latest";
        identity.docker_repository = "docker.io/library/busybox";
        identity.prefix = "docker.io/library";
        identity.signed_prefix = "quay.io/mirror";
        MatchAll(identity, payload->docker_reference);
      }
      break;
    }
    case 2: {
      absl::StatusOr<LookasideConfig> config = LookasideConfig::Parse(input);
      if (!config.ok()) break;
      const Digest digest = Digest::Sha256Of(std::string_view("manifest"));
      for (const ImageReference& image : Images()) {
        std::optional<std::string> base = config->BaseUrlFor(image);
        if (base.has_value()) (void)LookasideConfig::SignatureUrl(*base, image, digest, 1);
      }
      break;
    }
  }
  return 0;
}
