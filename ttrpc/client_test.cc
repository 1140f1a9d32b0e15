#include "ttrpc/client.h"

#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "common/testing/status_matchers.h"
#include "gtest/gtest.h"
#include "ttrpc/server.h"

namespace cdh::ttrpc {
namespace {

using ::cdh::testing::IsOk;
using ::cdh::testing::StatusIs;

TEST(ClientTest, ConnectToNothingIsUnavailable) {
  EXPECT_THAT(Client::Connect("/nonexistent-dir-for-cdh-test/x.sock"), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(Client::Connect(std::string(200, 'a')), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ClientTest, PeerClosingFailsPendingCallsWithUnavailable) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  auto c = Client::FromFd(fds[0]);
  std::thread closer([&] {
    char buf[64];
    (void)!::read(fds[1], buf, sizeof(buf));  // the request arrived; now hang up
    ::close(fds[1]);
  });
  auto r = c->Call("s", "m", "");
  closer.join();
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(c->Call("s", "m", ""), StatusIs(absl::StatusCode::kUnavailable));
}

TEST(ClientTest, ManyThreadsShareOneConnection) {
  ServiceRegistry reg;
  ASSERT_TRUE(reg.Register("t.S", "Echo",
                           [](std::string_view r, const CallContext&) -> absl::StatusOr<SecretBytes> {
                             return SecretBytes::FromString(r);
                           })
                  .ok());
  auto server = Server::New(std::move(reg), {});
  ASSERT_THAT(server, IsOk());
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  ASSERT_TRUE((*server)->AddConnection(fds[0]).ok());
  auto c = Client::FromFd(fds[1]);
  std::vector<std::thread> ts;
  std::atomic<int> ok{0};
  for (int t = 0; t < 16; ++t) {
    ts.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        std::string msg = std::to_string(t) + "/" + std::to_string(i);
        auto r = c->Call("t.S", "Echo", msg, absl::Seconds(30));
        if (r.ok() && r->RevealString() == msg) ++ok;
      }
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(ok.load(), 1600);
}

TEST(ClientTest, RequestOverTheLimitIsRefusedLocally) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  auto c = Client::FromFd(fds[0]);
  EXPECT_THAT(c->Call("s", "m", std::string(5 << 20, 'x')), StatusIs(absl::StatusCode::kInvalidArgument));
  ::close(fds[1]);
}

}  // namespace
}  // namespace cdh::ttrpc
