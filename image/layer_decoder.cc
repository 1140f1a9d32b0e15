#include "image/layer_decoder.h"

#include "common/status_macros.h"
#include "image/layer_codecs.h"

namespace cdh::image {
namespace {

std::span<const uint8_t> AsSpan(const std::string& s, size_t n) {
  return std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), n);
}

class PlainDecoder : public LayerDecoder {
 public:
  explicit PlainDecoder(ChunkSource source) : LayerDecoder(std::move(source)) {}
  absl::StatusOr<std::span<const uint8_t>> Next() override {
    while (true) {
      CDH_ASSIGN_OR_RETURN(std::optional<std::string> chunk, source_());
      if (!chunk) return std::span<const uint8_t>();
      if (chunk->empty()) continue;
      current_ = std::move(*chunk);
      hasher_.Update(std::string_view(current_));
      return AsSpan(current_, current_.size());
    }
  }

 private:
  std::string current_;
};

}  // namespace

std::unique_ptr<LayerDecoder> LayerDecoder::New(LayerCompression compression, ChunkSource source) {
  if (compression == LayerCompression::kNone) return std::make_unique<PlainDecoder>(std::move(source));
  return NewCompressedLayerDecoder(compression, std::move(source));
}

absl::Status LayerDecoder::Drain() {
  while (true) {
    CDH_ASSIGN_OR_RETURN(std::span<const uint8_t> s, Next());
    if (s.empty()) return absl::OkStatus();
  }
}

}  // namespace cdh::image
