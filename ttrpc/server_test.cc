// Server tests over socketpairs (no filesystem sockets): real threads, real descriptors.
#include "ttrpc/server.h"

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <future>
#include <latch>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "common/testing/status_matchers.h"
#include "gtest/gtest.h"
#include "ttrpc/client.h"
#include "ttrpc/codec.h"
#include "ttrpc/frame.h"

namespace cdh::ttrpc {
namespace {

using ::cdh::testing::IsOk;
using ::cdh::testing::StatusIs;

double ProcessCpuSeconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// A peer that speaks raw frames, to send what a well-behaved client never would.
class RawPeer {
 public:
  explicit RawPeer(int fd) : fd_(fd) {}
  ~RawPeer() { Close(); }
  void Send(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      ASSERT_GT(n, 0);
      bytes.remove_prefix(static_cast<size_t>(n));
    }
  }
  void SendRequest(uint32_t stream, std::string_view service, std::string_view method, std::string_view payload) {
    Send(EncodeFrame(stream, MessageType::kRequest, 0, EncodeRequest(service, method, payload, 0)));
  }
  // Blocks for the next frame; nullopt on EOF.
  std::optional<Frame> Read() {
    for (;;) {
      if (auto f = decoder_.Next()) return f;
      char buf[65536];
      ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) return std::nullopt;
      decoder_.Append(std::string_view(buf, static_cast<size_t>(n)));
    }
  }
  // The next response as {stream id, status, payload}.
  struct Reply {
    uint32_t stream_id;
    absl::Status status;
    std::string payload;
  };
  std::optional<Reply> ReadReply() {
    auto f = Read();
    if (!f) return std::nullopt;
    EXPECT_EQ(f->header.type, static_cast<uint8_t>(MessageType::kResponse));
    auto r = DecodeResponse(f->data.RevealString());
    EXPECT_THAT(r, IsOk());
    return Reply{f->header.stream_id, ToAbslStatus(*r), r->payload()};
  }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
  FrameDecoder decoder_;
};

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(registry_
                    .Register("test.Echo", "Echo",
                              [](std::string_view req, const CallContext&) -> absl::StatusOr<SecretBytes> {
                                return SecretBytes::FromString("echo:" + std::string(req));
                              })
                    .ok());
    ASSERT_TRUE(registry_
                    .Register("test.Echo", "Fail",
                              [](std::string_view, const CallContext&) -> absl::StatusOr<SecretBytes> {
                                return absl::NotFoundError("no such thing");
                              })
                    .ok());
    ASSERT_TRUE(registry_
                    .Register("test.Echo", "Big",
                              [](std::string_view, const CallContext&) -> absl::StatusOr<SecretBytes> {
                                return SecretBytes::FromString(std::string(kMaxDataLength, 'B'));
                              })
                    .ok());
    // Blocks until Release() is called (or the test ends), recording the deadline it saw.
    ASSERT_TRUE(registry_
                    .Register("test.Echo", "Wait",
                              [this](std::string_view, const CallContext& ctx) -> absl::StatusOr<SecretBytes> {
                                {
                                  absl::MutexLock lock(&seen_mu_);
                                  seen_deadline_ = ctx.deadline;
                                }
                                entered_.Notify();
                                release_.WaitForNotification();
                                return SecretBytes::FromString("waited");
                              })
                    .ok());
    ASSERT_TRUE(registry_
                    .Register("test.Echo", "Release",
                              [this](std::string_view, const CallContext&) -> absl::StatusOr<SecretBytes> {
                                ReleaseOnce();
                                return SecretBytes::FromString("released");
                              })
                    .ok());
  }
  // Waits for its caller to depart (or its deadline), then counts how it ended.
  void RegisterStuck() {
    ASSERT_TRUE(registry_
                    .Register("test.Echo", "Stuck",
                              [this](std::string_view, const CallContext& ctx) -> absl::StatusOr<SecretBytes> {
                                {
                                  absl::MutexLock lock(&stuck_mu_);
                                  ++stuck_entered_;
                                }
                                bool departed = ctx.cancellation != nullptr &&
                                                ctx.cancellation->WaitUntil(absl::Now() + absl::Seconds(30));
                                absl::MutexLock lock(&stuck_mu_);
                                (departed ? stuck_cancelled_ : stuck_timed_out_) += 1;
                                return absl::CancelledError("departed");
                              })
                    .ok());
  }
  void AwaitStuck(int* counter, int n) {
    absl::MutexLock lock(&stuck_mu_);
    auto reached = [&]() {
      stuck_mu_.AssertReaderHeld();
      return *counter >= n;
    };
    EXPECT_TRUE(stuck_mu_.AwaitWithTimeout(absl::Condition(&reached), absl::Seconds(20))) << *counter << " of " << n;
  }
  absl::Mutex stuck_mu_;
  int stuck_entered_ ABSL_GUARDED_BY(stuck_mu_) = 0;
  int stuck_cancelled_ ABSL_GUARDED_BY(stuck_mu_) = 0;
  int stuck_timed_out_ ABSL_GUARDED_BY(stuck_mu_) = 0;

  void TearDown() override {
    ReleaseOnce();
    if (server_) server_->Shutdown(absl::Seconds(5));
  }

  void StartServer(ServerOptions options = {}) {
    auto s = Server::New(registry_, std::move(options));
    ASSERT_THAT(s, IsOk());
    server_ = std::move(*s);
  }
  // A connected client end; the server serves the other end.
  int Connect() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    EXPECT_THAT(server_->AddConnection(fds[0]), IsOk());
    return fds[1];
  }
  void WaitForIdle() {
    // Polls the server's own counters; each step is bounded and the loop ends on success.
    for (int i = 0; i < 500; ++i) {
      auto st = server_->GetStats();
      if (st.connections == 0 && st.active_calls == 0) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ADD_FAILURE() << "server did not return to idle";
  }

  void ReleaseOnce() {
    std::call_once(release_once_, [this] { release_.Notify(); });
  }

  ServiceRegistry registry_;
  std::unique_ptr<Server> server_;
  std::once_flag release_once_;
  absl::Notification entered_, release_;
  absl::Time SeenDeadline() {
    absl::MutexLock lock(&seen_mu_);
    return seen_deadline_;
  }
  absl::Mutex seen_mu_;
  absl::Time seen_deadline_ ABSL_GUARDED_BY(seen_mu_);
};

TEST_F(ServerTest, UnaryCall) {
  StartServer();
  auto c = Client::FromFd(Connect());
  auto r = c->Call("test.Echo", "Echo", "hi");
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->RevealString(), "echo:hi");
}

TEST_F(ServerTest, HandlerStatusReachesTheCaller) {
  StartServer();
  auto c = Client::FromFd(Connect());
  auto r = c->Call("test.Echo", "Fail", "");
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(r.status().message(), "no such thing");
}

TEST_F(ServerTest, StatusMapperIsTheOnePathToTheWire) {
  ServerOptions o;
  o.status_mapper = [](const absl::Status& s) { return RpcStatus{13, "mapped"}; };
  StartServer(o);
  auto c = Client::FromFd(Connect());
  auto r = c->Call("test.Echo", "Fail", "");
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kInternal));
  EXPECT_EQ(r.status().message(), "mapped");
  // Protocol errors go through it too.
  EXPECT_EQ(c->Call("no.Such", "M", "").status().message(), "mapped");
}

TEST_F(ServerTest, UnknownServiceAndMethodCodes) {
  StartServer();
  auto c = Client::FromFd(Connect());
  auto svc = c->Call("no.Such", "Echo", "");
  EXPECT_THAT(svc, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(svc.status().message(), "no.Such service does not exist");
  auto m = c->Call("test.Echo", "Nope", "");
  EXPECT_THAT(m, StatusIs(absl::StatusCode::kUnimplemented));
  EXPECT_EQ(m.status().message(), "Nope method");
}

// Several calls in flight on one connection, answered by stream id: Wait cannot finish until
// Release (sent after it, on the same connection) has been served.
TEST_F(ServerTest, CallsOnOneConnectionAreMultiplexed) {
  StartServer();
  auto c = Client::FromFd(Connect());
  auto waiting = std::async(std::launch::async, [&] { return c->Call("test.Echo", "Wait", ""); });
  entered_.WaitForNotification();
  auto rel = c->Call("test.Echo", "Release", "");
  ASSERT_THAT(rel, IsOk());
  EXPECT_EQ(rel->RevealString(), "released");
  auto w = waiting.get();
  ASSERT_THAT(w, IsOk());
  EXPECT_EQ(w->RevealString(), "waited");
}

TEST_F(ServerTest, RepliesCarryTheRequestStreamId) {
  StartServer();
  RawPeer p(Connect());
  p.SendRequest(101, "test.Echo", "Echo", "a");
  p.SendRequest(7, "test.Echo", "Echo", "b");
  std::map<uint32_t, std::string> got;
  for (int i = 0; i < 2; ++i) {
    auto r = p.ReadReply();
    ASSERT_TRUE(r.has_value());
    got[r->stream_id] = r->payload;
  }
  EXPECT_EQ(got[101], "echo:a");
  EXPECT_EQ(got[7], "echo:b");
}

TEST_F(ServerTest, TimeoutIsEnforcedAndVisibleToTheHandler) {
  StartServer();
  auto c = Client::FromFd(Connect());
  absl::Time before = absl::Now();
  auto r = c->Call("test.Echo", "Wait", "", absl::Milliseconds(200));
  absl::Duration took = absl::Now() - before;
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kDeadlineExceeded));
  EXPECT_EQ(r.status().message(), "timeout");  // the server's answer, not the client's own
  EXPECT_LT(took, absl::Seconds(1));           // answered at the deadline, not when the handler returned
  ASSERT_TRUE(entered_.HasBeenNotified());
  EXPECT_GT(SeenDeadline(), before);
  EXPECT_LE(SeenDeadline(), before + absl::Milliseconds(200) + absl::Milliseconds(100));
  // The late reply of the handler is dropped; the connection still works.
  ReleaseOnce();
  auto after = c->Call("test.Echo", "Echo", "x");
  ASSERT_THAT(after, IsOk());
}

TEST_F(ServerTest, NoTimeoutMeansNoDeadline) {
  StartServer();
  auto c = Client::FromFd(Connect());
  auto waiting = std::async(std::launch::async, [&] { return c->Call("test.Echo", "Wait", ""); });
  entered_.WaitForNotification();
  EXPECT_EQ(SeenDeadline(), absl::InfiniteFuture());
  ReleaseOnce();
  EXPECT_THAT(waiting.get(), IsOk());
}

// 4 MiB + 1, then a valid request on the same connection.
TEST_F(ServerTest, OversizeRequestIsAnsweredAndConnectionStaysInSync) {
  StartServer();
  RawPeer p(Connect());
  p.Send(EncodeHeader(FrameHeader{kMaxDataLength + 1, 1, 1, 0}));
  auto over = p.ReadReply();  // answered before the body is sent
  ASSERT_TRUE(over.has_value());
  EXPECT_EQ(over->stream_id, 1u);
  EXPECT_THAT(over->status, StatusIs(absl::StatusCode::kResourceExhausted));
  p.Send(std::string(kMaxDataLength + 1, 'o'));
  p.SendRequest(3, "test.Echo", "Echo", "after");
  auto next = p.ReadReply();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->stream_id, 3u);
  EXPECT_THAT(next->status, IsOk());
  EXPECT_EQ(next->payload, "echo:after");
}

TEST_F(ServerTest, OversizeReplyBecomesResourceExhausted) {
  StartServer();
  auto c = Client::FromFd(Connect());
  auto r = c->Call("test.Echo", "Big", "");
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_TRUE(c->Call("test.Echo", "Echo", "").ok());
}

TEST_F(ServerTest, EvenStreamIdIsInvalidArgument) {
  StartServer();
  RawPeer p(Connect());
  p.SendRequest(2, "test.Echo", "Echo", "x");
  auto r = p.ReadReply();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->stream_id, 2u);
  EXPECT_THAT(r->status, StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(ServerTest, UnknownMessageTypesAreIgnored) {
  StartServer();
  RawPeer p(Connect());
  p.Send(EncodeFrame(1, MessageType::kData, 0, "data"));
  p.Send(EncodeFrame(3, static_cast<MessageType>(0x7F), 0xFF, "junk"));
  p.Send(EncodeFrame(5, MessageType::kResponse, 0, "resp"));
  p.SendRequest(7, "test.Echo", "Echo", "ok");
  auto r = p.ReadReply();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->stream_id, 7u);  // nothing came back for the ignored frames
  EXPECT_EQ(r->payload, "echo:ok");
}

TEST_F(ServerTest, UndecodableRequestIsInvalidArgumentOnItsStream) {
  StartServer();
  RawPeer p(Connect());
  p.Send(EncodeFrame(9, MessageType::kRequest, 0, std::string("\xff\xff\xff\xff", 4)));
  auto r = p.ReadReply();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->stream_id, 9u);
  EXPECT_THAT(r->status, StatusIs(absl::StatusCode::kInvalidArgument));
  p.SendRequest(11, "test.Echo", "Echo", "");
  EXPECT_THAT(p.ReadReply()->status, IsOk());
}

// Truncated frames and a peer that leaves: the server forgets the connection.
TEST_F(ServerTest, TruncatedFramesThenCloseLeaveNothingBehind) {
  StartServer();
  for (int i = 0; i < 200; ++i) {
    RawPeer p(Connect());
    std::string frame = EncodeFrame(1, MessageType::kRequest, 0, std::string(100, 'x'));
    p.Send(i % 2 ? frame.substr(0, 60) : frame.substr(0, 5));
  }
  WaitForIdle();
}

TEST_F(ServerTest, PeerLeavingMidCallIsCleanedUpWhenTheHandlerReturns) {
  StartServer();
  {
    RawPeer p(Connect());
    p.SendRequest(1, "test.Echo", "Wait", "");
    entered_.WaitForNotification();
  }
  EXPECT_EQ(server_->GetStats().active_calls, 1);
  ReleaseOnce();
  WaitForIdle();
}

TEST_F(ServerTest, ShutdownLetsCallsInFlightFinish) {
  StartServer();
  auto c = Client::FromFd(Connect());
  auto waiting = std::async(std::launch::async, [&] { return c->Call("test.Echo", "Wait", ""); });
  entered_.WaitForNotification();
  auto stopping = std::async(std::launch::async, [&] { server_->Shutdown(absl::Seconds(30)); });
  // Shutdown waits for the call (it cannot complete while Wait is blocked).
  EXPECT_EQ(stopping.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout);
  ReleaseOnce();
  auto w = waiting.get();
  ASSERT_THAT(w, IsOk());
  EXPECT_EQ(w->RevealString(), "waited");
  stopping.get();
  // After shutdown no new connection is served.
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  EXPECT_THAT(server_->AddConnection(fds[0]), StatusIs(absl::StatusCode::kFailedPrecondition));
  ::close(fds[1]);
}

// Past the grace period, connections are closed (the caller sees UNAVAILABLE) while a handler
// that ignores its deadline is still waited for before Shutdown returns.
TEST_F(ServerTest, ShutdownClosesConnectionsAfterTheGracePeriod) {
  StartServer();
  auto c = Client::FromFd(Connect());
  auto waiting = std::async(std::launch::async, [&] { return c->Call("test.Echo", "Wait", ""); });
  entered_.WaitForNotification();
  auto stopping = std::async(std::launch::async, [&] { server_->Shutdown(absl::Milliseconds(50)); });
  auto w = waiting.get();  // returns once the grace period is over, without Release
  EXPECT_THAT(w, StatusIs(absl::StatusCode::kUnavailable)) << w.status();
  EXPECT_EQ(stopping.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
  ReleaseOnce();
  stopping.get();
}

TEST_F(ServerTest, PerConnectionLimitHoldsBackReading) {
  ServerOptions o;
  o.max_in_flight_per_connection = 1;
  StartServer(o);
  RawPeer p(Connect());
  p.SendRequest(1, "test.Echo", "Wait", "");
  p.SendRequest(3, "test.Echo", "Release", "");
  entered_.WaitForNotification();
  // Release is not read while Wait is in flight, so Wait never returns on its own...
  EXPECT_FALSE(release_.WaitForNotificationWithTimeout(absl::Milliseconds(200)));
  EXPECT_EQ(server_->GetStats().active_calls, 1);
  ReleaseOnce();  // ...until the test releases it; then Release is served.
  std::set<uint32_t> ids;
  for (int i = 0; i < 2; ++i) ids.insert(p.ReadReply()->stream_id);
  EXPECT_EQ(ids, (std::set<uint32_t>{1, 3}));
}

// Listen on an abstract unix socket (no filesystem): beyond max_connections, clients wait in
// the backlog and are served once a connection ends.
TEST_F(ServerTest, ClientsBeyondTheConnectionLimitWaitForASlot) {
  ServerOptions o;
  o.max_connections = 1;
  StartServer(o);
  std::string name = std::string(1, '\0') + "cdh-ttrpc-test-" + std::to_string(::getpid());
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, name.data(), name.size());
  int lfd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_EQ(::bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(lfd, 8), 0);
  ASSERT_THAT(server_->Listen(lfd), IsOk());

  auto a = Client::Connect(name);
  ASSERT_THAT(a, IsOk());
  ASSERT_TRUE((*a)->Call("test.Echo", "Echo", "a").ok());
  auto b = Client::Connect(name);  // the kernel completes the connect from the backlog
  ASSERT_THAT(b, IsOk());
  auto waiting = std::async(std::launch::async, [&] { return (*b)->Call("test.Echo", "Echo", "b"); });
  double cpu_before = ProcessCpuSeconds();
  EXPECT_EQ(waiting.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout);
  // While full, the server sleeps in poll() instead of spinning on the listening socket.
  EXPECT_LT(ProcessCpuSeconds() - cpu_before, 0.1);
  a->reset();  // a slot frees up
  auto r = waiting.get();
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->RevealString(), "echo:b");
}

// A client that half-closes after its request (shutdown(SHUT_WR)) still gets its answer.
TEST_F(ServerTest, HalfClosedPeerStillGetsItsAnswer) {
  StartServer();
  int fd = Connect();
  RawPeer p(fd);
  p.SendRequest(1, "test.Echo", "Echo", "half");
  ASSERT_EQ(::shutdown(fd, SHUT_WR), 0);
  auto r = p.ReadReply();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->payload, "echo:half");
  p.Close();
  WaitForIdle();
}

// A peer that closes its connection entirely has departed: the calls it left running see their
// CallContext cancelled at once (not at their deadline).
TEST_F(ServerTest, DepartedPeerCancelsItsCalls) {
  RegisterStuck();
  StartServer();
  RawPeer p(Connect());
  for (uint32_t stream : {1u, 3u, 5u}) p.SendRequest(stream, "test.Echo", "Stuck", "");
  AwaitStuck(&stuck_entered_, 3);
  p.Close();
  AwaitStuck(&stuck_cancelled_, 3);
  {
    absl::MutexLock lock(&stuck_mu_);
    EXPECT_EQ(stuck_timed_out_, 0);
  }
  WaitForIdle();
}

// Calls stuck on something slow hold every kept worker; the pool grows so that a call needing
// only the CPU still answers, and shrinks back once the stuck calls are gone.
TEST_F(ServerTest, StuckCallsDoNotStarveOtherCalls) {
  RegisterStuck();
  ServerOptions o;
  o.worker_threads = 2;
  o.max_worker_threads = 32;
  o.worker_idle_timeout = absl::Milliseconds(200);
  StartServer(o);
  RawPeer agent(Connect());  // the kata agent's one connection
  constexpr uint32_t kStuck = 10;
  for (uint32_t i = 0; i < kStuck; ++i) agent.SendRequest(2 * i + 1, "test.Echo", "Stuck", "");
  AwaitStuck(&stuck_entered_, kStuck);
  EXPECT_GE(server_->GetStats().worker_threads, static_cast<int>(kStuck));
  // Another call on the same connection, and one on another connection, both answer.
  agent.SendRequest(101, "test.Echo", "Echo", "same");
  auto same = agent.ReadReply();
  ASSERT_TRUE(same.has_value());
  EXPECT_EQ(same->stream_id, 101u);
  EXPECT_EQ(same->payload, "echo:same");
  auto other = Client::FromFd(Connect());
  EXPECT_THAT(other->Call("test.Echo", "Echo", "other", absl::Seconds(20)), IsOk());
  agent.Close();
  AwaitStuck(&stuck_cancelled_, kStuck);
  // The extra workers leave after the idle timeout (polled: the server's own counter).
  int workers = 0;
  for (int i = 0; i < 500; ++i) {
    workers = server_->GetStats().worker_threads;
    if (workers == o.worker_threads) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(workers, o.worker_threads);
}

// Workers start on first use, one per call that finds none idle, never beyond worker_threads
// (here also the maximum: no growth for stuck calls, see StuckCallsDoNotStarveOtherCalls).
TEST_F(ServerTest, WorkersStartOnFirstUseUpToThePoolSize) {
  constexpr int kPool = 3, kCalls = 5;
  absl::Mutex mu;
  int inside = 0;
  absl::Notification go;
  ASSERT_THAT(registry_.Register("test.Echo", "Gather",
                                 [&](std::string_view, const CallContext&) -> absl::StatusOr<SecretBytes> {
                                   {
                                     absl::MutexLock lock(&mu);
                                     ++inside;
                                   }
                                   go.WaitForNotification();
                                   return SecretBytes::FromString("gathered");
                                 }),
              IsOk());
  ServerOptions o;
  o.worker_threads = kPool;
  o.max_worker_threads = kPool;
  StartServer(o);
  EXPECT_EQ(server_->GetStats().worker_threads, 0);
  auto c = Client::FromFd(Connect());
  ASSERT_THAT(c->Call("test.Echo", "Echo", "x"), IsOk());
  EXPECT_EQ(server_->GetStats().worker_threads, 1);

  std::vector<std::future<absl::StatusOr<SecretBytes>>> calls;
  for (int i = 0; i < kCalls; ++i) {
    calls.push_back(std::async(std::launch::async, [&] { return c->Call("test.Echo", "Gather", ""); }));
  }
  // kPool handlers run at once, so kPool workers exist; the other calls wait in the queue.
  {
    absl::MutexLock lock(&mu);
    ASSERT_TRUE(mu.AwaitWithTimeout(absl::Condition(
                                        +[](int* n) { return *n == kPool; }, &inside),
                                    absl::Seconds(20)));
  }
  EXPECT_EQ(server_->GetStats().worker_threads, kPool);
  go.Notify();
  for (auto& f : calls) {
    auto r = f.get();
    ASSERT_THAT(r, IsOk());
    EXPECT_EQ(r->RevealString(), "gathered");
  }
  EXPECT_EQ(server_->GetStats().worker_threads, kPool);
}

TEST_F(ServerTest, RejectsNonPositiveLimits) {
  ServerOptions o;
  o.worker_threads = 0;
  EXPECT_THAT(Server::New(registry_, o), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace cdh::ttrpc
