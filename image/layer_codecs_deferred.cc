// NewCompressedLayerDecoder and UnpackTar (image/layer_codecs.h) in the daemon: zlib, libzstd
// and libarchive are loaded with the module cdh-image.so when a pull first needs them.
#include "common/module_loader.h"
#include "image/layer_codecs.h"

namespace cdh::image {
namespace {

constexpr char kWhat[] = "image layer support (libarchive, zlib, libzstd)";

// Stands in for the decoder when the module cannot be loaded: its first read fails.
class UnavailableDecoder : public LayerDecoder {
 public:
  UnavailableDecoder(ChunkSource source, absl::Status status)
      : LayerDecoder(std::move(source)), status_(std::move(status)) {}
  absl::StatusOr<std::span<const uint8_t>> Next() override { return status_; }

 private:
  const absl::Status status_;
};

}  // namespace

std::unique_ptr<LayerDecoder> NewCompressedLayerDecoder(LayerCompression compression, ChunkSource source) {
  absl::StatusOr<ImageModuleNewDecoder> entry =
      ModuleEntry<ImageModuleNewDecoder>(kImageModuleFile, kImageModuleNewDecoder, kWhat);
  if (!entry.ok()) return std::make_unique<UnavailableDecoder>(std::move(source), entry.status());
  std::unique_ptr<LayerDecoder> decoder;
  (*entry)(compression, &source, &decoder);
  return decoder;
}

absl::StatusOr<UnpackStats> UnpackTar(const TarSource& source, int root_fd) {
  absl::StatusOr<ImageModuleUnpackTar> entry =
      ModuleEntry<ImageModuleUnpackTar>(kImageModuleFile, kImageModuleUnpackTar, kWhat);
  if (!entry.ok()) return entry.status();
  absl::StatusOr<UnpackStats> stats = absl::InternalError("cdh-image.so returned nothing");
  (*entry)(&source, root_fd, &stats);
  return stats;
}

}  // namespace cdh::image
