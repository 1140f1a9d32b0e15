#include "ttrpc/connection.h"

#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "common/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace cdh::ttrpc {
namespace {

using ::cdh::testing::StatusIs;

struct Pair {
  Pair() { EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0); }
  int fds[2] = {-1, -1};
};

std::string ReadExactly(int fd, size_t n) {
  std::string out;
  char buf[4096];
  while (out.size() < n) {
    ssize_t r = ::read(fd, buf, std::min(sizeof(buf), n - out.size()));
    if (r <= 0) break;
    out.append(buf, static_cast<size_t>(r));
  }
  return out;
}

TEST(ConnectionTest, ReadsFramesAsTheyArrive) {
  Pair p;
  Connection c(p.fds[0]);
  std::string two = EncodeFrame(1, MessageType::kRequest, 0, "a") + EncodeFrame(3, MessageType::kRequest, 0, "b");
  ASSERT_EQ(::write(p.fds[1], two.data(), 15), 15);  // one frame and a half
  EXPECT_EQ(c.ReadAvailable(), Connection::ReadResult::kOk);
  auto f1 = c.NextFrame();
  ASSERT_TRUE(f1.has_value());
  EXPECT_EQ(f1->data.RevealString(), "a");
  EXPECT_FALSE(c.NextFrame().has_value());
  EXPECT_EQ(c.ReadAvailable(), Connection::ReadResult::kWouldBlock);
  ASSERT_EQ(::write(p.fds[1], two.data() + 15, two.size() - 15), static_cast<ssize_t>(two.size() - 15));
  EXPECT_EQ(c.ReadAvailable(), Connection::ReadResult::kOk);
  auto f2 = c.NextFrame();
  ASSERT_TRUE(f2.has_value());
  EXPECT_EQ(f2->header.stream_id, 3u);
  ::close(p.fds[1]);
  EXPECT_EQ(c.ReadAvailable(), Connection::ReadResult::kClosed);
  EXPECT_TRUE(c.AtFrameBoundary());
}

TEST(ConnectionTest, EofInsideAFrameIsReported) {
  Pair p;
  Connection c(p.fds[0]);
  std::string half = EncodeFrame(1, MessageType::kRequest, 0, std::string(100, 'x')).substr(0, 60);
  ASSERT_EQ(::write(p.fds[1], half.data(), half.size()), 60);
  ::close(p.fds[1]);
  EXPECT_EQ(c.ReadAvailable(), Connection::ReadResult::kOk);
  EXPECT_FALSE(c.NextFrame().has_value());
  EXPECT_EQ(c.ReadAvailable(), Connection::ReadResult::kClosed);
  EXPECT_FALSE(c.AtFrameBoundary());
}

TEST(ConnectionTest, WritesWholeFramesFromManyThreads) {
  Pair p;
  Connection c(p.fds[0]);
  constexpr int kThreads = 8, kFrames = 50;
  const std::string body(20000, 'w');  // larger than one socket write on some systems
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t) {
    ts.emplace_back([&, t] {
      for (int i = 0; i < kFrames; ++i) {
        EXPECT_TRUE(c.WriteFrame(2 * t + 1, MessageType::kResponse, body, absl::Seconds(10)).ok());
      }
    });
  }
  FrameDecoder d;
  int got = 0;
  std::string all = ReadExactly(p.fds[1], kThreads * kFrames * (kFrameHeaderSize + body.size()));
  for (auto& t : ts) t.join();
  d.Append(all);
  while (auto f = d.Next()) {
    EXPECT_EQ(f->data.RevealString(), body);
    ++got;
  }
  EXPECT_EQ(got, kThreads * kFrames);
  ::close(p.fds[1]);
}

TEST(ConnectionTest, WriteToAPeerThatDoesNotReadTimesOutAndShutsDown) {
  Pair p;
  Connection c(p.fds[0]);
  std::string big(1 << 20, 'b');
  absl::Status s;
  for (int i = 0; i < 64 && s.ok(); ++i) s = c.WriteFrame(1, MessageType::kResponse, big, absl::Milliseconds(50));
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kDeadlineExceeded));
  // Shut down: further writes fail at once.
  EXPECT_THAT(c.WriteFrame(1, MessageType::kResponse, "x", absl::Seconds(1)), StatusIs(absl::StatusCode::kUnavailable));
  ::close(p.fds[1]);
}

TEST(ConnectionTest, WriteToAClosedPeerIsUnavailableNotSigpipe) {
  Pair p;
  Connection c(p.fds[0]);
  ::close(p.fds[1]);
  EXPECT_THAT(c.WriteFrame(1, MessageType::kResponse, "x", absl::Seconds(1)), StatusIs(absl::StatusCode::kUnavailable));
}

}  // namespace
}  // namespace cdh::ttrpc
