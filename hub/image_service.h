// ImageService: the hub's PullImage (cdh-api.md §12; image-pull spec §1-2). It owns the image
// puller and everything it needs, built from `[image]` on the first pull as upstream builds its
// image client lazily: the policy, the registry auth file and the registry configuration are
// fetched then — `kbs:///` URIs through the daemon's own resource provider, in-process, never
// through our own socket (no re-entrancy) — and a failure is returned to that caller and retried
// on the next pull. Once built it is never rebuilt (upstream's behaviour: a policy changed in the
// KBS later is seen after a restart).
//
// Signature policy: with `image_security_policy_uri` / `image_security_policy` unset every image
// is accepted (upstream, spec §5.6). Which policy is in force is logged once, by the verifier
// factory (ImageServiceDeps::make_verifier), when the service is built. The verifier and the layer decryptor come from
// the factories in ImageServiceDeps so that this file does not depend on their implementations. Thread-safe; neither
// copyable nor movable.
#ifndef CDH_HUB_IMAGE_SERVICE_H_
#define CDH_HUB_IMAGE_SERVICE_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/call_context.h"
#include "http/http_client.h"
#include "hub/image_pull_config.h"
#include "image/image_puller.h"
#include "image/image_verifier.h"
#include "image/layer_decryptor.h"
#include "resources/resource_provider.h"

namespace cdh {

// Reads a `[image]` resource URI: `kbs://…`/`kbs+<plugin>://…` through `provider`, `file://…` or
// a bare path locally (at most `max_bytes`). INVALID_ARGUMENT "Resource URI scheme `x` not
// supported" for anything else; the provider's or the file's codes otherwise.
absl::StatusOr<SecretBytes> ReadImageResource(resources::ResourceProvider& provider, std::string_view uri,
                                              size_t max_bytes, const CallContext& ctx);

struct ImageServiceDeps {
  // Makes the verifier for a policy (nullopt: none configured) and a sigstore config (YAML text,
  // "" when none). Must be set.
  std::function<absl::StatusOr<std::unique_ptr<image::ImageVerifier>>(const std::optional<std::string>& policy_json,
                                                                      const std::string& sigstore_config_yaml)>
      make_verifier;
  // Makes the layer decryptor. Must be set.
  std::function<absl::StatusOr<std::unique_ptr<image::LayerDecryptor>>()> make_decryptor;
  // Records pulls (runtime measurement); may be null.
  std::unique_ptr<image::PullMeasurer> measurer;
};

class ImageService {
 public:
  // `provider` must outlive the service.
  ImageService(ImagePullConfig config, resources::ResourceProvider& provider, ImageServiceDeps deps);
  ~ImageService();
  ImageService(const ImageService&) = delete;
  ImageService& operator=(const ImageService&) = delete;

  // The manifest digest; the codes of image::ImagePuller::Pull, plus those of building the
  // service on first use (FAILED_PRECONDITION/INVALID_ARGUMENT "Image Client error: …" for a
  // policy, auth file or registry configuration that cannot be fetched or parsed).
  absl::StatusOr<std::string> Pull(std::string_view image_url, std::string_view bundle_path, const CallContext& ctx);

 private:
  struct Built;
  absl::StatusOr<Built*> Build(const CallContext& ctx);

  const ImagePullConfig config_;
  resources::ResourceProvider& provider_;
  ImageServiceDeps deps_;
  absl::Mutex mu_;
  std::unique_ptr<Built> built_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cdh

#endif  // CDH_HUB_IMAGE_SERVICE_H_
