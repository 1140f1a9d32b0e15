// The layer codecs behind a link-time seam: the gzip and zstd decoders of LayerDecoder
// (image/layer_decoder.h) and UnpackTar (image/tar_unpacker.h, libarchive). Every binary but the
// daemon links them directly (image/layer_codecs.cc, image/tar_unpacker.cc: zlib, libzstd and
// libarchive linked in). The daemon links image/layer_codecs_deferred.cc instead, which loads the
// module cdh-image.so beside it, holding both and their libraries, when a pull first decodes or
// unpacks a layer: a daemon that never pulls an image never maps libarchive (and its libxml2,
// ICU, lzma, …). A layer that needs the module when it cannot be loaded fails with
// FAILED_PRECONDITION naming the file.
#ifndef CDH_IMAGE_LAYER_CODECS_H_
#define CDH_IMAGE_LAYER_CODECS_H_

#include <memory>

#include "absl/status/status.h"
#include "image/layer_decoder.h"
#include "image/tar_unpacker.h"

namespace cdh::image {

// The decoder for kGzip or kZstd (LayerDecoder::New answers kNone itself).
std::unique_ptr<LayerDecoder> NewCompressedLayerDecoder(LayerCompression compression, ChunkSource source);

// The module cdh-image.so (image/layer_codecs_module.cc), for the deferred side and the module
// only: file name (beside the executable) and entry points, which run NewCompressedLayerDecoder
// and UnpackTar of the direct side and store the result in `*out`.
inline constexpr char kImageModuleFile[] = "cdh-image.so";
inline constexpr char kImageModuleNewDecoder[] = "cdh_image_new_decoder";
using ImageModuleNewDecoder = void (*)(LayerCompression compression, ChunkSource* source,
                                       std::unique_ptr<LayerDecoder>* out);
inline constexpr char kImageModuleUnpackTar[] = "cdh_image_unpack_tar";
using ImageModuleUnpackTar = void (*)(const TarSource* source, int root_fd, absl::StatusOr<UnpackStats>* out);

}  // namespace cdh::image

#endif  // CDH_IMAGE_LAYER_CODECS_H_
