#include "common/byte_reader.h"

#include <functional>
#include <string>

#include <gtest/gtest.h>

#include "common/byte_writer.h"
#include "common/testing/status_matchers.h"

namespace cdh {
namespace {

using ::cdh::testing::IsOk;
using ::cdh::testing::StatusIs;

std::string Msg(const absl::Status& s) { return std::string(s.message()); }

TEST(ByteReaderTest, ReadsBothByteOrders) {
  const std::string b("\x01\x02\x03\x04\x05\x06\x07\x08", 8);
  ByteReader le(b);
  EXPECT_EQ(*le.U16Le(), 0x0201);
  EXPECT_EQ(*le.U16Be(), 0x0304);
  EXPECT_EQ(*le.U32Le(), 0x08070605u);
  EXPECT_TRUE(le.AtEnd());
  ByteReader be(b);
  EXPECT_EQ(*be.U64Be(), 0x0102030405060708ull);
  ByteReader le64(b);
  EXPECT_EQ(*le64.U64Le(), 0x0807060504030201ull);
  ByteReader u8(b);
  EXPECT_EQ(*u8.U8(), 1);
  EXPECT_EQ(*u8.U32Be(), 0x02030405u);
  EXPECT_EQ(u8.offset(), 5u);
  EXPECT_EQ(u8.remaining(), 3u);
}

TEST(ByteReaderTest, HighBitsAreNotSignExtended) {
  const std::string ones(8, '\xff');
  ByteReader r(ones);
  EXPECT_EQ(*r.U32Le(), 0xffffffffu);
  EXPECT_EQ(*r.U16Be(), 0xffffu);
  EXPECT_EQ(*r.U8(), 0xff);
}

TEST(ByteReaderTest, BytesSubAndRestAreViewsOfTheInput) {
  const std::string b = "headBODYtail";
  ByteReader r(b, "thing");
  EXPECT_EQ(*r.Bytes(4), "head");
  absl::StatusOr<ByteReader> body = r.Sub(4);
  ASSERT_THAT(body, IsOk());
  EXPECT_EQ(body->size(), 4u);
  EXPECT_EQ(*body->Bytes(4), "BODY");
  EXPECT_EQ(r.Rest(), "tail");
  EXPECT_TRUE(r.AtEnd());
  EXPECT_EQ(r.Rest(), "");
  ByteReader f(b);
  absl::StatusOr<std::span<const uint8_t, 4>> head = f.Fixed<4>();
  ASSERT_THAT(head, IsOk());
  EXPECT_EQ((*head)[0], 'h');
}

TEST(ByteReaderTest, SliceAndSeekAreAbsoluteWithinTheRange) {
  const std::string b = "0123456789";
  ByteReader r(b);
  ASSERT_THAT(r.Skip(2), IsOk());
  absl::StatusOr<ByteReader> s = r.Slice(5, 3);
  ASSERT_THAT(s, IsOk());
  EXPECT_EQ(s->Rest(), "567");
  EXPECT_EQ(r.offset(), 2u);  // Slice does not move the cursor
  ASSERT_THAT(r.Seek(8), IsOk());
  EXPECT_EQ(r.Rest(), "89");
  ASSERT_THAT(r.Seek(0), IsOk());
  EXPECT_EQ(*r.Bytes(1), "0");
  ASSERT_THAT(r.Seek(10), IsOk());
  EXPECT_TRUE(r.AtEnd());
}

// The negative table: every read past the end fails with INVALID_ARGUMENT naming the structure
// and the absolute offset, and leaves the reader exhausted.
TEST(ByteReaderTest, EveryShortReadFailsClosed) {
  struct Case {
    const char* name;
    size_t input_size;
    std::function<absl::Status(ByteReader&)> read;
    const char* offset_text;
  };
  const Case cases[] = {
      {"u8 of empty", 0, [](ByteReader& r) { return r.U8().status(); }, "byte 0"},
      {"u16le of 1", 1, [](ByteReader& r) { return r.U16Le().status(); }, "byte 0"},
      {"u16be of 1", 1, [](ByteReader& r) { return r.U16Be().status(); }, "byte 0"},
      {"u32le of 3", 3, [](ByteReader& r) { return r.U32Le().status(); }, "byte 0"},
      {"u32be of 3", 3, [](ByteReader& r) { return r.U32Be().status(); }, "byte 0"},
      {"u64le of 7", 7, [](ByteReader& r) { return r.U64Le().status(); }, "byte 0"},
      {"u64be of 7", 7, [](ByteReader& r) { return r.U64Be().status(); }, "byte 0"},
      {"bytes 5 of 4", 4, [](ByteReader& r) { return r.Bytes(5).status(); }, "byte 0"},
      {"bytes SIZE_MAX", 4, [](ByteReader& r) { return r.Bytes(SIZE_MAX).status(); }, "byte 0"},
      {"span 5 of 4", 4, [](ByteReader& r) { return r.Span(5).status(); }, "byte 0"},
      {"fixed 16 of 15", 15, [](ByteReader& r) { return r.Fixed<16>().status(); }, "byte 0"},
      {"sub 5 of 4", 4, [](ByteReader& r) { return r.Sub(5).status(); }, "byte 0"},
      {"skip 5 of 4", 4, [](ByteReader& r) { return r.Skip(5); }, "byte 0"},
      {"skip then u32", 6,
       [](ByteReader& r) {
         if (!r.Skip(3).ok()) return absl::InternalError("skip");
         return r.U32Le().status();
       },
       "byte 3"},
      {"seek past end", 4, [](ByteReader& r) { return r.Seek(5); }, "offset 5"},
      {"slice past end", 4, [](ByteReader& r) { return r.Slice(2, 3).status(); }, "byte 2"},
      {"slice offset past end", 4, [](ByteReader& r) { return r.Slice(5, 0).status(); }, "byte 5"},
      {"slice wrapping size", 4, [](ByteReader& r) { return r.Slice(1, SIZE_MAX).status(); }, "byte 1"},
      {"read in sub past its end", 8,
       [](ByteReader& r) {
         if (!r.Skip(2).ok()) return absl::InternalError("skip");
         absl::StatusOr<ByteReader> sub = r.Sub(3);
         if (!sub.ok()) return absl::InternalError("sub");
         return sub->U32Be().status();  // the bytes after the sub-range are not reachable
       },
       "byte 2"},
      {"trailing bytes", 3, [](ByteReader& r) { return r.ExpectEnd(); }, "3 trailing bytes"},
  };
  for (const Case& c : cases) {
    std::string input(c.input_size, 'x');
    ByteReader r(input, "widget");
    absl::Status s = c.read(r);
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument)) << c.name << ": " << s;
    EXPECT_THAT(std::string(Msg(s)), ::testing::HasSubstr("widget: ")) << c.name << ": " << s;
    EXPECT_THAT(std::string(Msg(s)), ::testing::HasSubstr(c.offset_text)) << c.name << ": " << s;
    EXPECT_THAT(Msg(s), ::testing::Not(::testing::HasSubstr("xxx")))
        << c.name << ": the message must not echo input bytes";
  }
}

TEST(ByteReaderTest, AFailedReadExhaustsTheReader) {
  const std::string b("\x01\x02\x03", 3);
  ByteReader r(b);
  EXPECT_THAT(r.U32Le(), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_TRUE(r.AtEnd());
  // Even a read that would have fitted before the failure is refused now.
  EXPECT_THAT(r.U8(), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(r.Seek(0), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(r.Rest(), "");
}

TEST(ByteReaderTest, SubReaderOffsetsInMessagesAreAbsolute) {
  std::string input(20, '\0');
  ByteReader r(input, "outer");
  ASSERT_THAT(r.Skip(10), IsOk());
  absl::StatusOr<ByteReader> sub = r.Sub(6);
  ASSERT_THAT(sub, IsOk());
  ASSERT_THAT(sub->Skip(4), IsOk());
  absl::Status s = sub->U32Le().status();
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(Msg(s)), ::testing::HasSubstr("outer: truncated at byte 14 (4 bytes needed, 2 left)")) << s;
}

TEST(ByteWriterTest, RoundTripsThroughTheReader) {
  std::string out;
  AppendU16Le(out, 0x1234);
  AppendU32Be(out, 0xdeadbeef);
  AppendU64Le(out, 0x0102030405060708ull);
  AppendU16Be(out, 0xabcd);
  AppendU32Le(out, 7);
  AppendU64Be(out, 9);
  ByteReader r(out);
  EXPECT_EQ(*r.U16Le(), 0x1234);
  EXPECT_EQ(*r.U32Be(), 0xdeadbeefu);
  EXPECT_EQ(*r.U64Le(), 0x0102030405060708ull);
  EXPECT_EQ(*r.U16Be(), 0xabcd);
  EXPECT_EQ(*r.U32Le(), 7u);
  EXPECT_EQ(*r.U64Be(), 9u);
  EXPECT_THAT(r.ExpectEnd(), IsOk());
}

TEST(ByteWriterTest, StoreGrowsTheBufferInsteadOfWritingPastIt) {
  std::string out(2, 'a');
  StoreLe(out, 4, 0x0201, 2);
  EXPECT_EQ(out, std::string("aa\0\0\x01\x02", 6));
  StoreBytes(out, 1, "xyz", 2);
  EXPECT_EQ(out, std::string("axy\0\x01\x02", 6));
}

}  // namespace
}  // namespace cdh
