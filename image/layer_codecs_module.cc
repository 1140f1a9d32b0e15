// The module cdh-image.so: the layer codecs (zlib, libzstd, libarchive) for the daemon, loaded
// when a pull first decodes or unpacks a layer (image/layer_codecs_deferred.cc). It carries its
// own copy of the codecs and binds its calls to it (-Bsymbolic-functions), so the functions called
// here are those of image/layer_codecs.cc and image/tar_unpacker.cc, not the daemon's deferring ones.
#include <type_traits>

#include "image/layer_codecs.h"

extern "C" {

__attribute__((visibility("default"))) void cdh_image_new_decoder(cdh::image::LayerCompression compression,
                                                                  cdh::image::ChunkSource* source,
                                                                  std::unique_ptr<cdh::image::LayerDecoder>* out) {
  *out = cdh::image::NewCompressedLayerDecoder(compression, std::move(*source));
}

__attribute__((visibility("default"))) void cdh_image_unpack_tar(const cdh::image::TarSource* source, int root_fd,
                                                                 absl::StatusOr<cdh::image::UnpackStats>* out) {
  *out = cdh::image::UnpackTar(*source, root_fd);
}

}  // extern "C"

static_assert(std::is_same_v<decltype(&cdh_image_new_decoder), cdh::image::ImageModuleNewDecoder>);
static_assert(std::is_same_v<decltype(&cdh_image_unpack_tar), cdh::image::ImageModuleUnpackTar>);
