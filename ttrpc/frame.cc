#include "ttrpc/frame.h"

#include <algorithm>

namespace cdh::ttrpc {
namespace {

// Buffer capacity kept between frames, in bytes; more is released once the buffer drains.
constexpr size_t kKeepCapacity = 256 * 1024;

void PutU32(std::string& out, uint32_t v) {
  out.push_back(static_cast<char>(v >> 24));
  out.push_back(static_cast<char>(v >> 16));
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}

uint32_t GetU32(std::string_view b) {
  auto u = [&](size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(b[i])); };
  return (u(0) << 24) | (u(1) << 16) | (u(2) << 8) | u(3);
}

}  // namespace

std::string EncodeHeader(const FrameHeader& header) {
  std::string out;
  out.reserve(kFrameHeaderSize);
  PutU32(out, header.length);
  PutU32(out, header.stream_id);
  out.push_back(static_cast<char>(header.type));
  out.push_back(static_cast<char>(header.flags));
  return out;
}

std::optional<FrameHeader> DecodeHeader(std::string_view bytes) {
  if (bytes.size() < kFrameHeaderSize) return std::nullopt;
  FrameHeader h;
  h.length = GetU32(bytes.substr(0, 4));
  h.stream_id = GetU32(bytes.substr(4, 4));
  h.type = static_cast<uint8_t>(bytes[8]);
  h.flags = static_cast<uint8_t>(bytes[9]);
  return h;
}

std::string EncodeFrame(uint32_t stream_id, MessageType type, uint8_t flags, std::string_view data) {
  std::string out = EncodeHeader(FrameHeader{static_cast<uint32_t>(data.size()), stream_id,
                                             static_cast<uint8_t>(type), flags});
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
  buffer_.append(bytes);
}

void FrameDecoder::Compact() {
  if (read_pos_ == 0) return;
  if (read_pos_ == buffer_.size()) {
    // Give back the memory of a large frame once it has been consumed, so an idle connection
    // does not keep up to 4 MiB.
    if (buffer_.capacity() > kKeepCapacity) {
      std::string().swap(buffer_);
    } else {
      buffer_.clear();
    }
    read_pos_ = 0;
  } else if (read_pos_ >= buffer_.size() / 2) {
    buffer_.erase(0, read_pos_);
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
  std::string_view unread(buffer_.data() + read_pos_, Unread());
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
  if (unread.size() < kFrameHeaderSize + header->length) return std::nullopt;
  Frame frame;
  frame.header = *header;
  frame.data.assign(unread.substr(kFrameHeaderSize, header->length));
  read_pos_ += kFrameHeaderSize + header->length;
  if (read_pos_ == buffer_.size()) Compact();
  return frame;
}

}  // namespace cdh::ttrpc
