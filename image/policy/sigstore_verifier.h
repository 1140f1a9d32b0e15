// SigstoreVerifier: the `sigstoreSigned` requirement with public keys, verifying cosign-format
// signatures stored as sigstore attachments in the image's own repository.
//
// Layout (sigstore/cosign specs/SIGNATURE_SPEC.md; containers/image docker/docker_image_src.go
// with `use-sigstore-attachments: true`): for a signed manifest digest `sha256:<hex>`, the tag
// `sha256-<hex>.sig` in the same repository holds an OCI image manifest whose layers of media type
// `application/vnd.dev.cosign.simplesigning.v1+json` are the signed payloads, each with the
// base64 signature in annotation `dev.cosignproject.cosign/signature` (ASN.1 DER ECDSA over the
// exact payload bytes for P-256 keys).
//
// A requirement is satisfied when at least one signature layer, for one of the candidate
// digests, (1) has a payload blob whose digest matches its descriptor (the registry client
// checks), (2) parses, with critical.type "cosign container image signature" (containers/image
// checks it; sigstore-rs does not), (3) names that candidate digest in
// critical.image.docker-manifest-digest, (4) verifies with one of the keys, and (5) satisfies
// `signedIdentity` when the requirement has one. Without `signedIdentity` no identity is checked,
// as image-rs does (cosign payloads carry only a repository), and the evaluator logs it.
//
// Codes: OK; PERMISSION_DENIED with the reason (no signature, none verifies, wrong digest or
// identity, malformed attachment); UNAVAILABLE / DEADLINE_EXCEEDED / UNAUTHENTICATED from the
// registry while fetching signatures. Thread-safe (no state).
#ifndef CDH_IMAGE_POLICY_SIGSTORE_VERIFIER_H_
#define CDH_IMAGE_POLICY_SIGSTORE_VERIFIER_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/call_context.h"
#include "crypto/signature_public_key.h"
#include "image/digest.h"
#include "image/policy/policy.h"
#include "image/reference.h"
#include "image/registry_client.h"

namespace cdh::image {

inline constexpr std::string_view kCosignSimpleSigningMediaType = "application/vnd.dev.cosign.simplesigning.v1+json";
inline constexpr std::string_view kCosignSignatureAnnotation = "dev.cosignproject.cosign/signature";
// Signature layers examined per attachment; more is refused as malformed.
inline constexpr size_t kMaxSignatureLayers = 64;

// Whether a status met while fetching signatures is handed to the caller as it is (the registry
// or broker could not answer: UNAVAILABLE, DEADLINE_EXCEEDED, UNAUTHENTICATED, INTERNAL) instead
// of counting against one signature.
bool IsFetchFailure(const absl::Status& status);

// "sha256-<hex>.sig" for "sha256:<hex>".
std::string SigstoreAttachmentTag(const Digest& digest);

absl::Status VerifySigstoreSigned(const std::vector<crypto::SignaturePublicKey>& keys,
                                  const std::optional<SignedIdentity>& identity, const ImageReference& image,
                                  const std::vector<Digest>& candidate_digests, RegistryClient& registry,
                                  const CallContext& ctx);

}  // namespace cdh::image

#endif  // CDH_IMAGE_POLICY_SIGSTORE_VERIFIER_H_
