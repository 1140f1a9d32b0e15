#include "ttrpc/frame.h"

#include <algorithm>
#include <cstring>

#include "common/byte_reader.h"
#include "common/byte_writer.h"

namespace cdh::ttrpc {
namespace {

// Buffer capacity kept between frames, in bytes; more is released once the buffer drains.
constexpr size_t kKeepCapacity = 256 * 1024;

}  // namespace

std::string EncodeHeader(const FrameHeader& header) {
  std::string out;
  out.reserve(kFrameHeaderSize);
  AppendU32Be(out, header.length);
  AppendU32Be(out, header.stream_id);
  out.push_back(static_cast<char>(header.type));
  out.push_back(static_cast<char>(header.flags));
  return out;
}

std::optional<FrameHeader> DecodeHeader(std::string_view bytes) {
  // "Not yet" is the common case on a stream: answer it without building an error status.
  if (bytes.size() < kFrameHeaderSize) return std::nullopt;
  ByteReader r(bytes, "ttrpc frame header");
  absl::StatusOr<uint32_t> length = r.U32Be();
  absl::StatusOr<uint32_t> stream_id = r.U32Be();
  absl::StatusOr<uint8_t> type = r.U8();
  absl::StatusOr<uint8_t> flags = r.U8();
  if (!flags.ok()) return std::nullopt;  // a failed read fails every later one: all four are set
  return FrameHeader{*length, *stream_id, *type, *flags};
}

std::string EncodeFrame(uint32_t stream_id, MessageType type, uint8_t flags, std::string_view data) {
  std::string out =
      EncodeHeader(FrameHeader{static_cast<uint32_t>(data.size()), stream_id, static_cast<uint8_t>(type), flags});
  out.append(data);
  return out;
}

void FrameDecoder::Append(std::string_view bytes) {
  // Skip oversize data straight from the input so it is never copied.
  if (discard_remaining_ > 0 && Unread() == 0) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(discard_remaining_, bytes.size()));
    discard_remaining_ -= n;
    bytes.remove_prefix(n);
  }
  Compact();
  buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
}

void FrameDecoder::Compact() {
  if (read_pos_ == 0) return;
  if (read_pos_ == buffer_.size()) {
    // Give back the memory of a large frame once it has been consumed, so an idle connection
    // does not keep up to 4 MiB (the allocator wipes what it frees).
    if (buffer_.capacity() > kKeepCapacity) {
      SecretBytes::Buffer().swap(buffer_);
    } else {
      SecretBytes::WipeForeign(buffer_.data(), buffer_.size());
      buffer_.clear();
    }
    read_pos_ = 0;
  } else if (read_pos_ >= buffer_.size() / 2) {
    const size_t keep = buffer_.size() - read_pos_;
    std::memmove(buffer_.data(), buffer_.data() + read_pos_, keep);
    SecretBytes::WipeForeign(buffer_.data() + keep, read_pos_);
    buffer_.resize(keep);
    read_pos_ = 0;
  }
}

std::optional<Frame> FrameDecoder::Next() {
  if (discard_remaining_ > 0) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(discard_remaining_, Unread()));
    discard_remaining_ -= n;
    read_pos_ += n;
    if (discard_remaining_ > 0) return std::nullopt;
  }
  std::string_view unread(reinterpret_cast<const char*>(buffer_.data()) + read_pos_, Unread());
  std::optional<FrameHeader> header = DecodeHeader(unread);
  if (!header.has_value()) return std::nullopt;
  if (header->length > max_data_length_) {
    read_pos_ += kFrameHeaderSize;
    discard_remaining_ = header->length;
    Frame frame;
    frame.header = *header;
    frame.oversize = true;
    return frame;
  }
  if (unread.size() - kFrameHeaderSize < header->length) return std::nullopt;  // not all data yet
  Frame frame;
  frame.header = *header;
  ByteReader body(unread, "ttrpc frame");
  if (!body.Skip(kFrameHeaderSize).ok()) return std::nullopt;
  absl::StatusOr<std::string_view> data = body.Bytes(header->length);
  if (!data.ok()) return std::nullopt;
  frame.data = SecretBytes::FromString(*data);
  read_pos_ += kFrameHeaderSize + header->length;
  if (read_pos_ == buffer_.size()) Compact();
  return frame;
}

}  // namespace cdh::ttrpc
