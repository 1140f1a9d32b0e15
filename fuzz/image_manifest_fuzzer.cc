// Registry answers for an image (image/manifest.h, OCI image-spec and Docker v2.2): an image
// index with platform selection, a manifest with its descriptors and each layer's media type,
// and an image config. Every parser sees every input.
#include "fuzz/fuzz_util.h"
#include "image/manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cdh::image;  // NOLINT
  const std::string_view input = cdh::fuzz::AsView(data, size);
  absl::StatusOr<ImageIndex> index = ParseImageIndex(input);
  if (index.ok()) (void)SelectPlatform(*index, HostPlatform());
  absl::StatusOr<ImageManifest> manifest = ParseImageManifest(input);
  if (manifest.ok()) {
    for (const Descriptor& layer : manifest->layers) (void)LayerCompressionOf(layer.media_type);
  }
  (void)ParseImageConfig(input);
  return 0;
}
