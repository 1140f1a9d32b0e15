// LayerDecoder: turns a (decrypted) layer blob, read in chunks, into the uncompressed tar stream
// and hashes that stream for the diff_id check (image-pull spec §3.5, §3.8): gzip through zlib
// (multi-member streams accepted), zstd through libzstd, or none. A compressed stream that ends
// early (truncated gzip member or zstd frame) is DATA_LOSS; corrupt compressed data is DATA_LOSS.
// Move-only by pointer; not thread-safe (one layer, one thread).
#ifndef CDH_IMAGE_LAYER_DECODER_H_
#define CDH_IMAGE_LAYER_DECODER_H_

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "absl/status/statusor.h"
#include "image/digest.h"
#include "image/manifest.h"

namespace cdh::image {

// Supplies the next input chunk; nullopt at the end of the input.
using ChunkSource = std::function<absl::StatusOr<std::optional<std::string>>()>;

class LayerDecoder {
 public:
  static std::unique_ptr<LayerDecoder> New(LayerCompression compression, ChunkSource source);
  virtual ~LayerDecoder() = default;

  // The next decompressed bytes (valid until the next call); an empty span at the end.
  virtual absl::StatusOr<std::span<const uint8_t>> Next() = 0;
  // Reads and hashes whatever input remains (data after the tar's end blocks belongs to the
  // diff_id too, as upstream's reader consumes it).
  absl::Status Drain();
  // sha256 of every decompressed byte returned so far.
  Digest DiffId() { return hasher_.Finish(); }
  uint64_t uncompressed_bytes() const { return hasher_.size(); }

 protected:
  explicit LayerDecoder(ChunkSource source) : source_(std::move(source)) {}
  ChunkSource source_;
  DigestHasher hasher_{"sha256"};
};

}  // namespace cdh::image

#endif  // CDH_IMAGE_LAYER_DECODER_H_
