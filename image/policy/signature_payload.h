// The signed payload of an image signature: the "critical" JSON of containers/image's simple
// signing format (docs/containers-signature.5.md; signature/internal/sigstore_payload.go for the
// cosign variant), and how its docker reference relates to the image (signedIdentity,
// containers/image signature/policy_reference_match.go).
//
//   {"critical":{"identity":{"docker-reference":R},"image":{"docker-manifest-digest":D},
//                "type":"atomic container signature" | "cosign container image signature"},
//    "optional":{…}|null}
//
// Parsing is strict on `critical` (exactly these members, strings) and ignores `optional`.
// Thread-safe (pure functions).
#ifndef CDH_IMAGE_POLICY_SIGNATURE_PAYLOAD_H_
#define CDH_IMAGE_POLICY_SIGNATURE_PAYLOAD_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "image/policy/policy.h"
#include "image/reference.h"

namespace cdh::image {

inline constexpr std::string_view kSimpleSigningType = "atomic container signature";
inline constexpr std::string_view kCosignSignatureType = "cosign container image signature";
// Largest payload accepted, in bytes (real payloads are a few hundred bytes).
inline constexpr size_t kMaxSignaturePayloadSize = 64 * 1024;

struct SignaturePayload {
  std::string type;              // critical.type
  std::string docker_reference;  // critical.identity.docker-reference, as signed
  std::string manifest_digest;   // critical.image.docker-manifest-digest, "sha256:<hex>"
};

// INVALID_ARGUMENT naming the member that is missing, of the wrong type or unexpected.
absl::StatusOr<SignaturePayload> ParseSignaturePayload(std::string_view json);

// Whether the payload's docker reference `signed_reference` satisfies `identity` for `image`
// (the reference the caller asked for). Both sides are normalised (docker.io, library/) before
// comparing. A signed reference that does not parse never matches. `why` (optional) receives a
// short reason when the result is false.
bool IdentityMatches(const SignedIdentity& identity, const ImageReference& image, std::string_view signed_reference,
                     std::string* why = nullptr);

}  // namespace cdh::image

#endif  // CDH_IMAGE_POLICY_SIGNATURE_PAYLOAD_H_
