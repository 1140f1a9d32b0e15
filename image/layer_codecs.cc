// NewCompressedLayerDecoder (image/layer_codecs.h) in every binary but the daemon: zlib and
// libzstd linked in. The daemon links image/layer_codecs_deferred.cc instead; its module
// cdh-image.so runs this.
#include "image/layer_codecs.h"

#include <zlib.h>
#include <zstd.h>

#include "common/status_macros.h"
#include "common/strings.h"

namespace cdh::image {
namespace {

constexpr size_t kOutChunk = 128 << 10;

std::span<const uint8_t> AsSpan(const std::string& s, size_t n) {
  return std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), n);
}

class GzipDecoder : public LayerDecoder {
 public:
  explicit GzipDecoder(ChunkSource source) : LayerDecoder(std::move(source)), out_(kOutChunk, '\0') {
    inflateInit2(&zs_, 15 + 16);  // gzip wrapper only
  }
  ~GzipDecoder() override { inflateEnd(&zs_); }

  absl::StatusOr<std::span<const uint8_t>> Next() override {
    while (true) {
      if (zs_.avail_in == 0 && !input_done_) {
        CDH_ASSIGN_OR_RETURN(std::optional<std::string> chunk, source_());
        if (!chunk) {
          input_done_ = true;
        } else {
          in_ = std::move(*chunk);
          zs_.next_in = reinterpret_cast<Bytef*>(in_.data());
          zs_.avail_in = static_cast<uInt>(in_.size());
        }
      }
      if (zs_.avail_in == 0 && input_done_) {
        if (in_member_) return absl::DataLossError("Failed to decode layer: truncated gzip stream");
        return std::span<const uint8_t>();
      }
      if (!in_member_) {
        // A new gzip member starts (multi-member streams are valid gzip).
        inflateReset(&zs_);
        in_member_ = true;
      }
      zs_.next_out = reinterpret_cast<Bytef*>(out_.data());
      zs_.avail_out = static_cast<uInt>(out_.size());
      int rc = inflate(&zs_, Z_NO_FLUSH);
      size_t produced = out_.size() - zs_.avail_out;
      if (rc == Z_STREAM_END) {
        in_member_ = false;
      } else if (rc != Z_OK && !(rc == Z_BUF_ERROR && produced == 0 && zs_.avail_in == 0)) {
        return absl::DataLossError(
            StrCat("Failed to decode layer: corrupt gzip data (", zs_.msg ? zs_.msg : "zlib error", ")"));
      }
      if (produced > 0) {
        hasher_.Update(std::string_view(out_.data(), produced));
        return AsSpan(out_, produced);
      }
    }
  }

 private:
  z_stream zs_{};
  std::string in_;
  std::string out_;
  bool input_done_ = false;
  bool in_member_ = false;
};

class ZstdDecoder : public LayerDecoder {
 public:
  explicit ZstdDecoder(ChunkSource source)
      : LayerDecoder(std::move(source)), ds_(ZSTD_createDStream()), out_(kOutChunk, '\0') {
    ZSTD_initDStream(ds_);
    // Bound the window (and so the decoder's memory) as the zstd CLI does by default: 128 MiB.
    ZSTD_DCtx_setParameter(ds_, ZSTD_d_windowLogMax, 27);
  }
  ~ZstdDecoder() override { ZSTD_freeDStream(ds_); }

  absl::StatusOr<std::span<const uint8_t>> Next() override {
    while (true) {
      if (in_.pos == in_.size && !input_done_) {
        CDH_ASSIGN_OR_RETURN(std::optional<std::string> chunk, source_());
        if (!chunk) {
          input_done_ = true;
        } else {
          buf_ = std::move(*chunk);
          in_ = ZSTD_inBuffer{buf_.data(), buf_.size(), 0};
        }
      }
      ZSTD_outBuffer out{out_.data(), out_.size(), 0};
      if (in_.pos < in_.size || (input_done_ && pending_)) {
        size_t rc = ZSTD_decompressStream(ds_, &out, &in_);
        if (ZSTD_isError(rc)) {
          return absl::DataLossError(StrCat("Failed to decode layer: corrupt zstd data (", ZSTD_getErrorName(rc), ")"));
        }
        pending_ = rc != 0;
        seen_input_ = true;
      }
      if (out.pos > 0) {
        hasher_.Update(std::string_view(out_.data(), out.pos));
        return AsSpan(out_, out.pos);
      }
      if (input_done_ && in_.pos == in_.size) {
        if (pending_ || !seen_input_) return absl::DataLossError("Failed to decode layer: truncated zstd stream");
        return std::span<const uint8_t>();
      }
    }
  }

 private:
  ZSTD_DStream* ds_;
  std::string buf_;
  std::string out_;
  ZSTD_inBuffer in_{nullptr, 0, 0};
  bool input_done_ = false;
  bool pending_ = false;
  bool seen_input_ = false;
};

}  // namespace

std::unique_ptr<LayerDecoder> NewCompressedLayerDecoder(LayerCompression compression, ChunkSource source) {
  if (compression == LayerCompression::kZstd) return std::make_unique<ZstdDecoder>(std::move(source));
  return std::make_unique<GzipDecoder>(std::move(source));
}

}  // namespace cdh::image
