#include "ttrpc/codec.h"

#include "common/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace cdh::ttrpc {
namespace {

using ::cdh::testing::IsOk;
using ::cdh::testing::StatusIs;

TEST(CodecTest, RequestRoundTrip) {
  std::string data = EncodeRequest("api.GetResourceService", "GetResource",
                                   "\x0a\x03"
                                   "abc",
                                   50'000'000'000);
  auto r = DecodeRequest(data);
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->service(), "api.GetResourceService");
  EXPECT_EQ(r->method(), "GetResource");
  EXPECT_EQ(r->payload(),
            "\x0a\x03"
            "abc");
  EXPECT_EQ(r->timeout_nano(), 50'000'000'000);
}

// Field numbers of cdh-api.md §3.3, checked byte by byte: service=1, method=2, payload=3,
// timeout_nano=4.
TEST(CodecTest, RequestWireBytes) {
  std::string data = EncodeRequest("s", "m", "p", 1);
  EXPECT_EQ(data, std::string("\x0a\x01s\x12\x01m\x1a\x01p\x20\x01", 11));
}

// Response: status=1 {code=1, message=2}, payload=2.
TEST(CodecTest, ResponseWireBytes) {
  EXPECT_EQ(EncodeResponse(RpcStatus{0, ""}, "xy").RevealString(), std::string("\x0a\x00\x12\x02xy", 6));
  EXPECT_EQ(EncodeResponse(RpcStatus{5, "no"}, "ignored").RevealString(), std::string("\x0a\x06\x08\x05\x12\x02no", 8));
}

// The hand encoding equals protobuf's own serialization, payload sizes across varint widths.
TEST(CodecTest, ResponseEncodingMatchesProtobuf) {
  for (size_t n : {0u, 1u, 127u, 128u, 16383u, 16384u, 1u << 20}) {
    for (RpcStatus st : {RpcStatus{0, ""}, RpcStatus{13, "Unseal Secret failed: x"}}) {
      std::string payload(n, 'p');
      ::ttrpc::Response r;
      r.mutable_status()->set_code(st.code);
      r.mutable_status()->set_message(st.message);
      if (st.code == 0) r.set_payload(payload);
      EXPECT_EQ(EncodeResponse(st, payload).RevealString(), r.SerializeAsString()) << n << " " << st.code;
    }
  }
}

TEST(CodecTest, ResponseRoundTripAndStatus) {
  auto ok = DecodeResponse(EncodeResponse(RpcStatus{0, ""}, "payload").RevealString());
  ASSERT_THAT(ok, IsOk());
  EXPECT_THAT(ToAbslStatus(*ok), IsOk());
  EXPECT_EQ(ok->payload(), "payload");
  auto bad = DecodeResponse(EncodeResponse(RpcStatus{4, "timeout"}, "").RevealString());
  ASSERT_THAT(bad, IsOk());
  absl::Status s = ToAbslStatus(*bad);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kDeadlineExceeded));
  EXPECT_EQ(s.message(), "timeout");
}

TEST(CodecTest, OutOfRangeCodeIsUnknown) {
  ::ttrpc::Response r;
  r.mutable_status()->set_code(99);
  EXPECT_THAT(ToAbslStatus(r), StatusIs(absl::StatusCode::kUnknown));
  r.mutable_status()->set_code(-1);
  EXPECT_THAT(ToAbslStatus(r), StatusIs(absl::StatusCode::kUnknown));
}

TEST(CodecTest, UndecodableRequestIsInvalidArgument) {
  for (std::string junk : {std::string("\xff\xff\xff", 3), std::string("\x0a\x10short", 7), std::string("\x0b", 1)}) {
    auto r = DecodeRequest(junk);
    EXPECT_THAT(r, StatusIs(absl::StatusCode::kInvalidArgument));
  }
}

TEST(CodecTest, EmptyRequestDecodesToEmptyNames) {
  auto r = DecodeRequest("");
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->service(), "");
}

}  // namespace
}  // namespace cdh::ttrpc
