// ttrpc framing and envelopes (ttrpc/frame.h, ttrpc/codec.h): the incremental FrameDecoder fed
// the input in arbitrary splits, with a data limit the input picks (so oversize frames and the
// skipping of their data are reached), every frame's data decoded as a ttrpc.Request and a
// ttrpc.Response. Properties: the decoder holds at most a header, the limit and the last append;
// a non-oversize frame's data is exactly its announced length; a frame re-encodes to its bytes.
#include <fuzzer/FuzzedDataProvider.h>

#include "fuzz/fuzz_util.h"
#include "ttrpc/codec.h"
#include "ttrpc/frame.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cdh::ttrpc;  // NOLINT
  FuzzedDataProvider in(data, size);
  const uint32_t limit = in.ConsumeBool() ? kMaxDataLength : in.ConsumeIntegralInRange<uint32_t>(0, 256);
  FrameDecoder decoder(limit);
  while (in.remaining_bytes() > 0) {
    const size_t chunk = in.ConsumeIntegralInRange<size_t>(1, 64);
    const std::string bytes = in.ConsumeBytesAsString(chunk);
    decoder.Append(bytes);
    FUZZ_CHECK(decoder.BufferedBytes() <= kFrameHeaderSize + limit + bytes.size());
    while (std::optional<Frame> frame = decoder.Next()) {
      if (frame->oversize) {
        FUZZ_CHECK(frame->header.length > limit);
        FUZZ_CHECK(frame->data.empty());
        continue;
      }
      FUZZ_CHECK(frame->data.size() == frame->header.length);
      const std::string_view payload = frame->data.RevealString();
      const std::string encoded = EncodeFrame(frame->header.stream_id, static_cast<MessageType>(frame->header.type),
                                              frame->header.flags, payload);
      FUZZ_CHECK(DecodeHeader(encoded).has_value());
      FUZZ_CHECK(DecodeHeader(encoded)->length == frame->header.length);
      absl::StatusOr<::ttrpc::Request> request = DecodeRequest(payload);
      if (request.ok())
        (void)EncodeRequest(request->service(), request->method(), request->payload(), request->timeout_nano());
      absl::StatusOr<::ttrpc::Response> response = DecodeResponse(payload);
      if (response.ok()) (void)ToAbslStatus(*response);
    }
  }
  (void)decoder.AtFrameBoundary();
  return 0;
}
