// Robustness of the ttrpc transport of the real daemon: hostile and broken
// peers get an answer or a closed connection, never a crash, never an unbounded allocation, and
// the daemon's descriptors and threads come back to their baseline afterwards.
//
// The daemon runs with ttrpc only (no gRPC), whose thread pool would make thread counts move on
// their own.
#include <atomic>
#include <filesystem>
#include <thread>
#include <vector>

#include "common/strings.h"
#include "common/testing/status_matchers.h"
#include "gtest/gtest.h"
#include "proto/api.pb.h"
#include "tests/daemon_fixture.h"
#include "tests/ttrpc/raw_conn.h"
#include "ttrpc/client.h"

namespace cdh::testing {
namespace {

using ::cdh::testing::IsOk;
using ::cdh::testing::StatusIs;

using ttrpc::EncodeFrame;
using ttrpc::EncodeHeader;
using ttrpc::FrameHeader;
using ttrpc::kMaxDataLength;
using ttrpc::MessageType;

std::string GetResourcePayload(std::string_view uri) {
  api::GetResourceRequest r;
  r.set_resourcepath(std::string(uri));
  return r.SerializeAsString();
}

std::string ResourceOf(const std::string& reply_payload) {
  api::GetResourceResponse r;
  return r.ParseFromString(reply_payload) ? r.resource() : "<undecodable>";
}

class RobustnessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = TestDaemon::Start(TestDaemonOptions{.grpc = false});
    ASSERT_THAT(d, IsOk());
    daemon_ = std::move(*d);
    // Warm up once (lazy initialisation inside the daemon), then take the baseline once the
    // daemon has closed its end of the warm-up connection.
    auto warm = Connect();
    ExpectGoodCall(*warm, 1);
    int with_connection = daemon_->CountFds();
    warm.reset();
    absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (daemon_->CountFds() != with_connection - 1 && absl::Now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    WaitForBaseline(/*take=*/true);
  }
  void TearDown() override {
    if (daemon_ != nullptr) {
      EXPECT_TRUE(daemon_->Alive()) << "daemon died:\n" << daemon_->Log();
    }
  }

  std::unique_ptr<RawConn> Connect() {
    auto c = RawConn::Connect(daemon_->ttrpc_socket());
    EXPECT_NE(c, nullptr);
    return c;
  }

  void ExpectGoodCall(RawConn& c, uint32_t stream) {
    ASSERT_TRUE(c.SendRequest(stream, "api.GetResourceService", "GetResource", GetResourcePayload(kSmallResourceUri)));
    auto r = c.ReadReply();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->stream_id, stream);
    EXPECT_THAT(r->status, IsOk());
    EXPECT_EQ(ResourceOf(r->payload), kSmallResource);
  }

  // Descriptors and threads settle asynchronously after peers leave; wait (bounded) for the
  // descriptors to return to the baseline and the threads to be within the pool, or take it. The daemon's own counters
  // are the event waited for.
  void WaitForBaseline(bool take = false) {
    absl::Time deadline = absl::Now() + absl::Seconds(10);
    int fds = -1, threads = -1;
    for (;;) {
      fds = daemon_->CountFds();
      threads = daemon_->CountThreads();
      if (take) {
        base_fds_ = fds;
        base_threads_ = threads;
        return;
      }
      if (fds == base_fds_ && threads <= kMaxThreads) return;
      if (absl::Now() >= deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_EQ(fds, base_fds_) << "descriptors did not return to baseline: " << FdList();
    EXPECT_LE(threads, kMaxThreads) << "threads beyond the pool";
  }

  std::string FdList() {
    std::string out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(StrCat("/proc/", daemon_->pid(), "/fd"), ec)) {
      out += StrCat(e.path().filename().string(), "->", std::filesystem::read_symlink(e.path(), ec).string(), " ");
    }
    return out;
  }

  // The daemon without gRPC: main, the ttrpc event loop and at most 8 ttrpc workers (started on
  // first use and kept), whatever the load.
  static constexpr int kMaxThreads = 10;
  std::unique_ptr<TestDaemon> daemon_;
  int base_fds_ = 0;
  int base_threads_ = 0;
};

// A header for 100 bytes then 50, half a header, resets — ten thousand times.
TEST_F(RobustnessTest, TruncatedFramesAndResetsTenThousandTimes) {
  const std::string frame = EncodeFrame(1, MessageType::kRequest, 0, std::string(100, 'x'));
  for (int i = 0; i < 10000; ++i) {
    auto c = Connect();
    ASSERT_NE(c, nullptr) << "connection " << i << " refused";
    switch (i % 3) {
      case 0:
        c->Send(frame.substr(0, 10 + 50));
        c->Close();
        break;
      case 1:
        c->Send(frame.substr(0, 5));
        c->Close();
        break;
      case 2:
        c->Send(frame.substr(0, 10 + 50));
        c->Reset();
        break;
    }
  }
  auto c = Connect();
  ExpectGoodCall(*c, 1);
  c.reset();
  WaitForBaseline();
}

// A length of 0xFFFFFFFF with no body: answered at once, nothing allocated for it.
TEST_F(RobustnessTest, AllOnesLengthIsAnsweredWithoutAllocating) {
  long rss_before = daemon_->RssKib();
  auto c = Connect();
  ASSERT_TRUE(c->Send(EncodeHeader(FrameHeader{0xFFFFFFFFu, 1, 1, 0})));
  auto r = c->ReadReply();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->stream_id, 1u);
  EXPECT_THAT(r->status, StatusIs(absl::StatusCode::kResourceExhausted));
  // Some body bytes arrive and are dropped, not stored.
  ASSERT_TRUE(c->Send(std::string(1 << 20, 'z')));
  auto probe = Connect();
  ExpectGoodCall(*probe, 1);  // the daemon still serves others meanwhile
  EXPECT_LT(daemon_->RssKib() - rss_before, 64 * 1024) << "daemon memory grew by more than 64 MiB";
  c.reset();
  probe.reset();
  WaitForBaseline();
}

// 4 MiB + 1 with its body, then a valid request on the same connection.
TEST_F(RobustnessTest, FourMibPlusOneThenAValidRequestOnTheSameConnection) {
  auto c = Connect();
  ASSERT_TRUE(c->Send(EncodeHeader(FrameHeader{kMaxDataLength + 1, 1, 1, 0})));
  ASSERT_TRUE(c->Send(std::string(kMaxDataLength + 1, 'o')));
  auto over = c->ReadReply();
  ASSERT_TRUE(over.has_value());
  EXPECT_EQ(over->stream_id, 1u);
  EXPECT_THAT(over->status, StatusIs(absl::StatusCode::kResourceExhausted));
  ExpectGoodCall(*c, 3);
  c.reset();
  WaitForBaseline();
}

TEST_F(RobustnessTest, EvenStreamIdsAreRefusedAndTheConnectionGoesOn) {
  auto c = Connect();
  for (uint32_t id : {0u, 2u, 0xFFFFFFFEu}) {
    ASSERT_TRUE(c->SendRequest(id, "api.GetResourceService", "GetResource", GetResourcePayload(kSmallResourceUri)));
    auto r = c->ReadReply();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->stream_id, id);
    EXPECT_THAT(r->status, StatusIs(absl::StatusCode::kInvalidArgument));
  }
  ExpectGoodCall(*c, 5);
}

TEST_F(RobustnessTest, UnknownMessageTypesAreIgnored) {
  auto c = Connect();
  for (int type : {0, 2, 3, 4, 0x7F, 0xFF}) {
    ASSERT_TRUE(c->Send(EncodeFrame(7, static_cast<MessageType>(type), 0xFF, "whatever")));
  }
  ExpectGoodCall(*c, 9);  // the first reply is for the request: nothing came for the rest
}

TEST_F(RobustnessTest, UndecodablePayloadsGetInvalidArgument) {
  auto c = Connect();
  // Not a ttrpc.Request at all.
  ASSERT_TRUE(c->Send(EncodeFrame(1, MessageType::kRequest, 0, std::string("\xff\xff\xff\xff\x0f", 5))));
  auto r1 = c->ReadReply();
  ASSERT_TRUE(r1.has_value());
  EXPECT_THAT(r1->status, StatusIs(absl::StatusCode::kInvalidArgument));
  // A ttrpc.Request whose payload is not the method's request message.
  ASSERT_TRUE(c->SendRequest(3, "api.SealedSecretService", "UnsealSecret", std::string("\x0a\xff\x01", 3)));
  auto r2 = c->ReadReply();
  ASSERT_TRUE(r2.has_value());
  EXPECT_EQ(r2->stream_id, 3u);
  EXPECT_THAT(r2->status, StatusIs(absl::StatusCode::kInvalidArgument));
  // Unknown service and method (ttrpc-rust's codes).
  ASSERT_TRUE(c->SendRequest(5, "api.Nope", "GetResource", ""));
  EXPECT_THAT(c->ReadReply()->status, StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_TRUE(c->SendRequest(7, "api.GetResourceService", "Nope", ""));
  EXPECT_THAT(c->ReadReply()->status, StatusIs(absl::StatusCode::kUnimplemented));
  ExpectGoodCall(*c, 9);
}

// timeout_nano is honoured by the real daemon: a deadline that has passed before the call can
// run is answered DEADLINE_EXCEEDED "timeout" (ttrpc-rust's answer); the connection goes on.
TEST_F(RobustnessTest, ExpiredTimeoutNanoIsDeadlineExceeded) {
  auto c = Connect();
  ASSERT_TRUE(c->SendRequest(1, "api.GetResourceService", "GetResource", GetResourcePayload(kSmallResourceUri),
                             /*timeout_nano=*/1));
  auto r = c->ReadReply();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->stream_id, 1u);
  EXPECT_THAT(r->status, StatusIs(absl::StatusCode::kDeadlineExceeded));
  EXPECT_EQ(r->status.message(), "timeout");
  // The kata agent's 50 s timeout leaves plenty of room.
  ASSERT_TRUE(c->SendRequest(3, "api.GetResourceService", "GetResource", GetResourcePayload(kSmallResourceUri),
                             /*timeout_nano=*/50'000'000'000));
  auto ok = c->ReadReply();
  ASSERT_TRUE(ok.has_value());
  EXPECT_THAT(ok->status, IsOk());
  EXPECT_EQ(ResourceOf(ok->payload), kSmallResource);
}

// Clients that send calls and leave before the answers: the replies fail to write, nothing
// leaks.
TEST_F(RobustnessTest, ClientsDisconnectingMidCall) {
  for (int i = 0; i < 200; ++i) {
    auto c = Connect();
    for (uint32_t s = 1; s < 20; s += 2) {
      c->SendRequest(s, "api.SealedSecretService", "UnsealSecret", [] {
        api::UnsealSecretInput in;
        in.set_secret(kFixtureSealedSecret);
        return in.SerializeAsString();
      }());
    }
    if (i % 2)
      c->Reset();
    else
      c->Close();
  }
  auto c = Connect();
  ExpectGoodCall(*c, 1);
  c.reset();
  WaitForBaseline();
}

// 100 concurrent connections, each with calls of its own, all answered correctly.
TEST_F(RobustnessTest, HundredConcurrentConnections) {
  constexpr int kConnections = 100, kCalls = 20;
  std::vector<std::unique_ptr<ttrpc::Client>> clients;
  for (int i = 0; i < kConnections; ++i) {
    auto c = ttrpc::Client::Connect(daemon_->ttrpc_socket());
    ASSERT_THAT(c, IsOk());
    clients.push_back(std::move(*c));
  }
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kConnections; ++i) {
    threads.emplace_back([&, i] {
      for (int k = 0; k < kCalls; ++k) {
        auto r = clients[i]->Call("api.GetResourceService", "GetResource", GetResourcePayload(kSmallResourceUri),
                                  absl::Seconds(50));
        if (r.ok() && ResourceOf(*r) == kSmallResource) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kConnections * kCalls);
  // The daemon's threads do not grow with connections (one loop plus a bounded pool).
  EXPECT_GE(daemon_->CountThreads(), base_threads_);
  EXPECT_LE(daemon_->CountThreads(), kMaxThreads);
  EXPECT_EQ(daemon_->CountFds(), base_fds_ + kConnections);
  clients.clear();
  WaitForBaseline();
}

}  // namespace
}  // namespace cdh::testing
