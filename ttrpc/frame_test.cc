#include "ttrpc/frame.h"

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace cdh::ttrpc {
namespace {

std::string Bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s.push_back(static_cast<char>(c));
  return s;
}

TEST(FrameTest, HeaderIsBigEndianLengthStreamTypeFlags) {
  std::string h = EncodeHeader(FrameHeader{0x01020304, 0x0A0B0C0D, 2, 0x7F});
  EXPECT_EQ(h, Bytes({1, 2, 3, 4, 0x0A, 0x0B, 0x0C, 0x0D, 2, 0x7F}));
  auto d = DecodeHeader(h);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->length, 0x01020304u);
  EXPECT_EQ(d->stream_id, 0x0A0B0C0Du);
  EXPECT_EQ(d->type, 2);
  EXPECT_EQ(d->flags, 0x7F);
}

TEST(FrameTest, DecodeHeaderNeedsTenBytes) { EXPECT_FALSE(DecodeHeader(std::string(9, '\0')).has_value()); }

TEST(FrameTest, EncodeFrameSetsLength) {
  std::string f = EncodeFrame(5, MessageType::kRequest, 0, "abc");
  EXPECT_EQ(f, Bytes({0, 0, 0, 3, 0, 0, 0, 5, 1, 0}) + "abc");
}

TEST(FrameDecoderTest, DecodesFramesSplitAtEveryByte) {
  std::string stream = EncodeFrame(1, MessageType::kRequest, 0, "hello") + EncodeFrame(3, MessageType::kData, 2, "") +
                       EncodeFrame(5, MessageType::kRequest, 0, std::string(1000, 'x'));
  FrameDecoder d;
  std::vector<Frame> got;
  for (char c : stream) {
    d.Append(std::string_view(&c, 1));
    while (auto f = d.Next()) got.push_back(std::move(*f));
  }
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].header.stream_id, 1u);
  EXPECT_EQ(got[0].data.RevealString(), "hello");
  EXPECT_EQ(got[1].header.type, 3);
  EXPECT_EQ(got[1].header.flags, 2);
  EXPECT_EQ(got[1].data.RevealString(), "");
  EXPECT_EQ(got[2].data.RevealString(), std::string(1000, 'x'));
  EXPECT_TRUE(d.AtFrameBoundary());
}

TEST(FrameDecoderTest, HalfAHeaderIsNotAFrame) {
  FrameDecoder d;
  d.Append(EncodeFrame(1, MessageType::kRequest, 0, "abc").substr(0, 5));
  EXPECT_FALSE(d.Next().has_value());
  EXPECT_FALSE(d.AtFrameBoundary());
}

TEST(FrameDecoderTest, TruncatedDataIsNotAFrame) {
  FrameDecoder d;
  d.Append(EncodeHeader(FrameHeader{100, 1, 1, 0}) + std::string(50, 'a'));
  EXPECT_FALSE(d.Next().has_value());
  EXPECT_FALSE(d.AtFrameBoundary());
}

TEST(FrameDecoderTest, MaxLengthFrameIsAccepted) {
  FrameDecoder d;
  d.Append(EncodeFrame(1, MessageType::kRequest, 0, std::string(kMaxDataLength, 'm')));
  auto f = d.Next();
  ASSERT_TRUE(f.has_value());
  EXPECT_FALSE(f->oversize);
  EXPECT_EQ(f->data.size(), kMaxDataLength);
}

// 4 MiB + 1, then a valid frame: the oversize frame is reported at once, its data skipped,
// and the next frame decodes, so the connection stays in sync.
TEST(FrameDecoderTest, OversizeFrameIsSkippedAndStreamStaysInSync) {
  FrameDecoder d;
  d.Append(EncodeHeader(FrameHeader{kMaxDataLength + 1, 7, 1, 0}));
  auto over = d.Next();
  ASSERT_TRUE(over.has_value());
  EXPECT_TRUE(over->oversize);
  EXPECT_EQ(over->header.stream_id, 7u);
  EXPECT_EQ(over->header.length, kMaxDataLength + 1);
  EXPECT_TRUE(over->data.empty());
  // The body arrives in chunks and is never stored.
  std::string chunk(64 * 1024, 'z');
  size_t sent = 0;
  while (sent + chunk.size() <= kMaxDataLength + 1) {
    d.Append(chunk);
    sent += chunk.size();
    EXPECT_FALSE(d.Next().has_value());
    EXPECT_EQ(d.BufferedBytes(), 0u);
  }
  std::string rest(kMaxDataLength + 1 - sent, 'z');
  d.Append(rest + EncodeFrame(9, MessageType::kRequest, 0, "next"));
  auto next = d.Next();
  ASSERT_TRUE(next.has_value());
  EXPECT_FALSE(next->oversize);
  EXPECT_EQ(next->header.stream_id, 9u);
  EXPECT_EQ(next->data.RevealString(), "next");
  EXPECT_TRUE(d.AtFrameBoundary());
}

// A header announcing 0xFFFFFFFF bytes allocates nothing.
TEST(FrameDecoderTest, AllOnesLengthNeverAllocates) {
  FrameDecoder d;
  d.Append(Bytes({0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 1, 1, 0}) + std::string(1000, 'q'));
  auto f = d.Next();
  ASSERT_TRUE(f.has_value());
  EXPECT_TRUE(f->oversize);
  EXPECT_EQ(f->header.length, 0xFFFFFFFFu);
  EXPECT_FALSE(d.Next().has_value());
  EXPECT_EQ(d.BufferedBytes(), 0u);
  EXPECT_FALSE(d.AtFrameBoundary());  // 0xFFFFFFFF - 1000 bytes still to skip
}

TEST(FrameDecoderTest, CustomLimit) {
  FrameDecoder d(/*max_data_length=*/4);
  d.Append(EncodeFrame(1, MessageType::kRequest, 0, "12345") + EncodeFrame(3, MessageType::kRequest, 0, "1234"));
  auto a = d.Next();
  ASSERT_TRUE(a.has_value());
  EXPECT_TRUE(a->oversize);
  auto b = d.Next();
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->data.RevealString(), "1234");
}

TEST(FrameDecoderTest, BufferStaysBoundedAcrossManyFrames) {
  FrameDecoder d;
  std::string frame = EncodeFrame(1, MessageType::kRequest, 0, std::string(100, 'a'));
  for (int i = 0; i < 10000; ++i) {
    d.Append(frame);
    ASSERT_TRUE(d.Next().has_value());
  }
  EXPECT_EQ(d.BufferedBytes(), 0u);
}

// Random frames (some over the limit) fed in random chunk sizes decode to exactly what was
// encoded, in order; the buffer never exceeds header + limit + one chunk.
TEST(FrameDecoderTest, RandomFramesInRandomChunks) {
  std::mt19937 rng(12345);
  constexpr uint32_t kLimit = 300;
  for (int round = 0; round < 50; ++round) {
    std::string stream;
    std::vector<Frame> want;
    for (int i = 0; i < 40; ++i) {
      uint32_t len = rng() % 400;  // about a quarter are oversize
      std::string data(len, static_cast<char>('a' + i % 26));
      uint32_t id = rng();
      uint8_t type = static_cast<uint8_t>(rng() % 5);
      stream += EncodeHeader(FrameHeader{len, id, type, 0}) + data;
      Frame f;
      f.header = FrameHeader{len, id, type, 0};
      f.oversize = len > kLimit;
      if (!f.oversize) f.data = SecretBytes::FromString(data);
      want.push_back(std::move(f));
    }
    FrameDecoder d(kLimit);
    std::vector<Frame> got;
    size_t max_chunk = 1 + rng() % 64;
    for (size_t pos = 0; pos < stream.size();) {
      size_t n = std::min<size_t>(1 + rng() % max_chunk, stream.size() - pos);
      d.Append(std::string_view(stream).substr(pos, n));
      pos += n;
      ASSERT_LE(d.BufferedBytes(), kFrameHeaderSize + kLimit + max_chunk);
      while (auto f = d.Next()) got.push_back(std::move(*f));
    }
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(got[i].header.stream_id, want[i].header.stream_id);
      EXPECT_EQ(got[i].header.length, want[i].header.length);
      EXPECT_EQ(got[i].header.type, want[i].header.type);
      EXPECT_EQ(got[i].oversize, want[i].oversize);
      EXPECT_EQ(got[i].data.RevealString(), want[i].data.RevealString());
    }
    EXPECT_TRUE(d.AtFrameBoundary());
  }
}

// Garbage in: no crash, memory bounded by the limit.
TEST(FrameDecoderTest, RandomBytesStayBounded) {
  std::mt19937 rng(777);
  FrameDecoder d(/*max_data_length=*/1000);
  for (int i = 0; i < 20000; ++i) {
    std::string chunk(1 + rng() % 100, '\0');
    for (char& c : chunk) c = static_cast<char>(rng());
    d.Append(chunk);
    while (d.Next().has_value()) {
    }
    ASSERT_LE(d.BufferedBytes(), kFrameHeaderSize + 1000 + 100);
  }
}

}  // namespace
}  // namespace cdh::ttrpc
