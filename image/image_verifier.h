// ImageVerifier: decides whether an image may be pulled (the signature policy, image-pull spec
// §5-6). The puller calls it on every pull — cache hits included (spec §1.8) — after the platform
// manifest has been resolved and digest-checked and BEFORE any layer is downloaded or unpacked.
// The production implementation is image/policy/ (PolicyEvaluator); tests may use
// AllowAllImageVerifier below.
//
// Contract: implementations are thread-safe (pulls run concurrently); neither copyable nor
// movable. Status codes of Verify:
//   OK                 the image is allowed
//   PERMISSION_DENIED  denied: the message names the image and the requirement that failed
//                      (upstream's "Image policy rejected: Denied by policy: …" wording)
//   UNAVAILABLE, DEADLINE_EXCEEDED, NOT_FOUND, …  propagated from fetching signatures or keys
#ifndef CDH_IMAGE_IMAGE_VERIFIER_H_
#define CDH_IMAGE_IMAGE_VERIFIER_H_

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/call_context.h"
#include "image/digest.h"
#include "image/reference.h"
#include "image/registry_client.h"

namespace cdh::image {

class ImageVerifier {
 public:
  virtual ~ImageVerifier() = default;
  // `requested`: the reference as the caller asked for it (normalised), which selects the scope
  // and is the identity signatures must name; `manifest_digest`: the digest of the platform
  // manifest that will be unpacked; `registry`: where signatures are looked up — the location the
  // image came from (a mirror or remapped location answers for `requested`'s repository, with
  // that location's scheme and credentials).
  virtual absl::Status Verify(const ImageReference& requested, const Digest& manifest_digest, RegistryClient& registry,
                              const CallContext& ctx) = 0;
};

// Accepts every image: upstream's behaviour when no policy is configured (spec §5.6).
// Thread-safe; stateless.
class AllowAllImageVerifier : public ImageVerifier {
 public:
  absl::Status Verify(const ImageReference&, const Digest&, RegistryClient&, const CallContext&) override {
    return absl::OkStatus();
  }
};

}  // namespace cdh::image

#endif  // CDH_IMAGE_IMAGE_VERIFIER_H_
