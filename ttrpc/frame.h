// ttrpc framing: bytes <-> frames (cdh-api.md §3.3; containerd/ttrpc PROTOCOL.md "Message Frame").
//
// A frame is a 10-byte header followed by `length` bytes of data:
//   u32 big-endian data length | u32 big-endian stream id | u8 message type | u8 flags
// This layer knows nothing about sockets or protobuf: it turns a byte stream into frames and
// frames into bytes, so it is tested with in-memory buffers.
#ifndef CDH_TTRPC_FRAME_H_
#define CDH_TTRPC_FRAME_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/secret_bytes.h"

namespace cdh::ttrpc {

inline constexpr size_t kFrameHeaderSize = 10;

// Largest frame data accepted or sent, in bytes (4 MiB). Why: it is ttrpc-rust's
// MESSAGE_LENGTH_MAX (and Go ttrpc's messageLengthMax), the limit the kata agent's client
// enforces, so a larger frame could never be read by the peer anyway; it also bounds what one
// connection can make the daemon buffer. It therefore caps secret and resource sizes too.
inline constexpr uint32_t kMaxDataLength = 4u << 20;

// Message types (u8). Requests flow client -> server, responses server -> client; data frames
// belong to streaming RPCs, which no CDH service uses.
enum class MessageType : uint8_t {
  kRequest = 1,
  kResponse = 2,
  kData = 3,
};

struct FrameHeader {
  uint32_t length = 0;     // bytes of data after the header
  uint32_t stream_id = 0;  // odd when the client opened the stream
  uint8_t type = 0;        // a MessageType value, or anything a peer sent
  uint8_t flags = 0;       // 0 for unary calls
};

// A decoded frame. `oversize` frames carry the header only: their data (longer than the
// decoder's limit) is skipped without being stored. The data may carry secrets (a reply's
// plaintext, a request's key material), so it lives in the wiping type.
struct Frame {
  FrameHeader header;
  SecretBytes data;
  bool oversize = false;
};

// The 10 header bytes for `header`.
std::string EncodeHeader(const FrameHeader& header);
// Parses the first kFrameHeaderSize bytes of `bytes`; nullopt when fewer are given.
std::optional<FrameHeader> DecodeHeader(std::string_view bytes);
// Header plus data. `data.size()` becomes the length; the caller keeps it <= kMaxDataLength.
std::string EncodeFrame(uint32_t stream_id, MessageType type, uint8_t flags, std::string_view data);

// Incremental decoder: bytes go in as they arrive (any split), whole frames come out in order.
// Memory is bounded: at most one header plus `max_data_length` bytes of data plus the bytes of
// the last Append are held. A frame announcing more than `max_data_length` bytes is returned at
// once as an `oversize` frame (header only) and its data is then dropped as it arrives, so a
// length of 0xFFFFFFFF never allocates, and the stream stays in sync after the data has passed.
// The buffered bytes are wiped when consumed or released (they may carry secrets).
// Movable, not copyable; not thread-safe (one per connection, used by one reader).
class FrameDecoder {
 public:
  explicit FrameDecoder(uint32_t max_data_length = kMaxDataLength) : max_data_length_(max_data_length) {}

  void Append(std::string_view bytes);
  // The next complete frame, or nullopt until more bytes are appended.
  std::optional<Frame> Next();

  // True when no partial frame is held and no oversize data remains to be skipped: an EOF here
  // is a clean end of stream, anywhere else the peer truncated a frame.
  bool AtFrameBoundary() const { return Unread() == 0 && discard_remaining_ == 0; }
  // Bytes currently held (for tests of the memory bound).
  size_t BufferedBytes() const { return Unread(); }

 private:
  size_t Unread() const { return buffer_.size() - read_pos_; }
  void Compact();

  uint32_t max_data_length_;
  SecretBytes::Buffer buffer_;
  size_t read_pos_ = 0;
  uint64_t discard_remaining_ = 0;  // data bytes of an oversize frame still to skip
};

}  // namespace cdh::ttrpc

#endif  // CDH_TTRPC_FRAME_H_
