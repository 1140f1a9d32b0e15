// CurlHttpClient against a real HTTP server (cpp-httplib on 127.0.0.1, port 0): what the KBS and
// IMDS clients rely on — headers both ways, no redirects, the body limit, the codes of
// http/http_client.h, and the proxy switch.
#include "http/curl_http_client.h"

#include <httplib.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "common/strings.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cdh::http {
namespace {

using ::cdh::testing::IsOk;
using ::cdh::testing::StatusIs;
using ::testing::Contains;
using ::testing::Pair;

class CurlHttpClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.Get("/hello", [](const httplib::Request& req, httplib::Response& res) {
      res.set_header("X-Echo", req.get_header_value("X-Request"));
      res.set_content("hello", "text/plain");
    });
    server_.Post("/echo", [](const httplib::Request& req, httplib::Response& res) {
      res.status = 201;
      res.set_content(req.body, "application/octet-stream");
    });
    server_.Get("/redirect", [](const httplib::Request&, httplib::Response& res) { res.set_redirect("/hello"); });
    server_.Get("/big", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(4096, 'b'), "application/octet-stream");
    });
    server_.Get("/stall", [this](const httplib::Request&, httplib::Response& res) {
      if (!arrived_.HasBeenNotified()) arrived_.Notify();
      release_.WaitForNotification();  // answers only when the test lets it
      res.set_content("late", "text/plain");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::yield();  // stop() must not race the start
  }
  void TearDown() override {
    if (!release_.HasBeenNotified()) release_.Notify();
    server_.stop();
    thread_.join();
  }
  std::string Url(std::string_view path) const { return StrCat("http://127.0.0.1:", port_, path); }
  static absl::Time Soon() { return absl::Now() + absl::Seconds(10); }

  httplib::Server server_;
  absl::Notification release_;
  absl::Notification arrived_;  // a /stall request reached the server
  int port_ = 0;
  std::thread thread_;
};

TEST_F(CurlHttpClientTest, GetAndPostCarryHeadersAndBodies) {
  auto http = std::move(CurlHttpClient::New({})).value();
  auto get = http->Send({"GET", Url("/hello"), {{"X-Request", "ping"}}, ""}, Soon());
  ASSERT_THAT(get, IsOk());
  EXPECT_EQ(get->status, 200);
  EXPECT_EQ(get->body, "hello");
  EXPECT_THAT(get->headers, Contains(Pair("x-echo", "ping")));  // names lower-cased
  EXPECT_EQ(get->HeaderValues("x-echo"), std::vector<std::string>{"ping"});

  std::string binary("\x00\x01\xff", 3);
  auto post = http->Send({"POST", Url("/echo"), {}, binary}, Soon());
  ASSERT_THAT(post, IsOk());
  EXPECT_EQ(post->status, 201);
  EXPECT_EQ(post->body, binary);
}

TEST_F(CurlHttpClientTest, RedirectsAreReturnedNotFollowed) {
  auto http = std::move(CurlHttpClient::New({})).value();
  auto r = http->Send({"GET", Url("/redirect"), {}, ""}, Soon());
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->status, 302);
  EXPECT_EQ(r->HeaderValues("location"), std::vector<std::string>{"/hello"});
}

TEST_F(CurlHttpClientTest, BodyOverTheLimitIsResourceExhausted) {
  CurlHttpClientOptions options;
  options.max_response_bytes = 1024;
  auto http = std::move(CurlHttpClient::New(options)).value();
  EXPECT_THAT(http->Send({"GET", Url("/big"), {}, ""}, Soon()),
              StatusIs(absl::StatusCode::kResourceExhausted, "exceeds 1024 bytes"));
  EXPECT_THAT(http->Send({"GET", Url("/hello"), {}, ""}, Soon()), IsOk());  // the client stays usable
}

TEST_F(CurlHttpClientTest, CallerDeadlineIsDeadlineExceeded) {
  auto http = std::move(CurlHttpClient::New({})).value();
  EXPECT_THAT(http->Send({"GET", Url("/stall"), {}, ""}, absl::Now() + absl::Milliseconds(200)),
              StatusIs(absl::StatusCode::kDeadlineExceeded, "/stall"));
  EXPECT_THAT(http->Send({"GET", Url("/hello"), {}, ""}, absl::Now() - absl::Seconds(1)),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
}

TEST_F(CurlHttpClientTest, OwnRequestTimeoutIsUnavailable) {
  CurlHttpClientOptions options;
  options.request_timeout = absl::Milliseconds(200);
  auto http = std::move(CurlHttpClient::New(options)).value();
  EXPECT_THAT(http->Send({"GET", Url("/stall"), {}, ""}, absl::InfiniteFuture()),
              StatusIs(absl::StatusCode::kUnavailable, "timed out"));
}

TEST_F(CurlHttpClientTest, RefusedConnectionIsUnavailable) {
  auto http = std::move(CurlHttpClient::New({})).value();
  // Port 1 on loopback: nothing listens there on a test machine.
  EXPECT_THAT(http->Send({"GET", "http://127.0.0.1:1/x", {}, ""}, Soon()),
              StatusIs(absl::StatusCode::kUnavailable, "127.0.0.1:1/x"));
}

TEST_F(CurlHttpClientTest, MalformedRequestsAreInvalidArgument) {
  auto http = std::move(CurlHttpClient::New({})).value();
  EXPECT_THAT(http->Send({"PUT", Url("/hello"), {}, ""}, Soon()),
              StatusIs(absl::StatusCode::kInvalidArgument, "method"));
  EXPECT_THAT(http->Send({"GET", "ftp://127.0.0.1/x", {}, ""}, Soon()), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(http->Send({"GET", Url("/hello"), {{"X-Bad", "a\r\nInjected: 1"}}, ""}, Soon()),
              StatusIs(absl::StatusCode::kInvalidArgument, "line break"));
  CurlHttpClientOptions bad_ca;
  bad_ca.ca_pem = "not a certificate";
  EXPECT_THAT(CurlHttpClient::New(bad_ca), StatusIs(absl::StatusCode::kInvalidArgument));
}

// explicit_proxies with no proxy configured bypasses the environment's (here a dead one).
TEST_F(CurlHttpClientTest, EnvironmentProxyCanBeSwitchedOff) {
  ::setenv("http_proxy", "http://127.0.0.1:1", 1);
  auto proxied = std::move(CurlHttpClient::New({})).value();
  EXPECT_THAT(proxied->Send({"GET", Url("/hello"), {}, ""}, Soon()), StatusIs(absl::StatusCode::kUnavailable));
  CurlHttpClientOptions options;
  options.explicit_proxies = true;
  auto direct = std::move(CurlHttpClient::New(options)).value();
  EXPECT_THAT(direct->Send({"GET", Url("/hello"), {}, ""}, Soon()), IsOk());
  ::unsetenv("http_proxy");
}

// A departed caller abandons an exchange with a server that never answers: CANCELLED as soon
// as the cancellation fires (the wait is woken), not at the deadline nor at libcurl's next
// progress callback.
TEST_F(CurlHttpClientTest, CancellationAbandonsAnExchangeAtOnce) {
  auto http = std::move(CurlHttpClient::New({})).value();
  HttpRequest request{"GET", Url("/stall")};
  auto departure = std::make_shared<Cancellation>();
  request.cancellation = departure;
  absl::StatusOr<HttpResponse> result = absl::UnknownError("not run");
  absl::Time returned;
  std::thread caller([&] {
    result = http->Send(request, absl::Now() + absl::Seconds(60));
    returned = absl::Now();
  });
  arrived_.WaitForNotification();  // the exchange is under way: the server holds the request
  absl::Time cancelled = absl::Now();
  departure->Cancel();
  caller.join();
  EXPECT_THAT(result, StatusIs(absl::StatusCode::kCancelled, "departed"));
  // Checking from libcurl's progress callback noticed the departure about 200 ms late on this
  // test (up to a second on a silent connection); a woken wait takes a few milliseconds.
  EXPECT_LT(returned - cancelled, absl::Milliseconds(100));
}

// A cancellation that fired before the request starts: nothing is sent.
TEST_F(CurlHttpClientTest, AlreadyCancelledRequestIsNotSent) {
  auto http = std::move(CurlHttpClient::New({})).value();
  HttpRequest request{"GET", Url("/stall")};
  auto departure = std::make_shared<Cancellation>();
  departure->Cancel();
  request.cancellation = departure;
  EXPECT_THAT(http->Send(request, Soon()), StatusIs(absl::StatusCode::kCancelled, "departed"));
  EXPECT_FALSE(arrived_.HasBeenNotified());
}

// Secret headers reach the server like others; a header block over the limit is refused
// before anything is sent, naming its size.
TEST_F(CurlHttpClientTest, SecretHeadersAndTheHeaderLimit) {
  CurlHttpClientOptions options;
  options.max_request_header_bytes = 1024;
  auto http = std::move(CurlHttpClient::New(options)).value();
  HttpRequest ok{"GET", Url("/hello")};
  ok.secret_headers.push_back({"X-Request", SecretBytes::FromString("from-a-secret")});
  auto r = http->Send(ok, Soon());
  ASSERT_THAT(r, IsOk());
  EXPECT_THAT(r->headers, Contains(Pair("x-echo", "from-a-secret")));
  HttpRequest big{"GET", Url("/hello")};
  big.secret_headers.push_back({"Authorization", SecretBytes::FromString(std::string(2000, 't'))});
  EXPECT_THAT(http->Send(big, Soon()), StatusIs(absl::StatusCode::kResourceExhausted, "request headers of 2"));
}

// A server that answers an error before reading the request body and then stops answering on
// that connection: the next request must not be sent on it.
TEST(CurlHttpClientReuseTest, ConnectionIsNotReusedAfterAnErrorAnswer) {
  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(listener, 8), 0);
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  std::string url = StrCat("http://127.0.0.1:", ntohs(addr.sin_port), "/attest");
  std::atomic<int> accepted{0};
  std::thread server([&] {
    std::vector<int> held;
    for (int i = 0; i < 2; ++i) {
      int fd = ::accept(listener, nullptr, nullptr);
      if (fd < 0) break;
      ++accepted;
      char buf[256];
      // Reads (part of) the head only, answers 413 on the first connection and keeps it open
      // without ever answering again; the second connection gets a clean 200.
      (void)!::recv(fd, buf, sizeof(buf), 0);
      std::string answer = i == 0 ? "HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n\r\n"
                                  : "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
      (void)!::send(fd, answer.data(), answer.size(), MSG_NOSIGNAL);
      held.push_back(fd);
    }
    for (int fd : held) ::close(fd);
  });
  auto http = std::move(CurlHttpClient::New({})).value();
  auto first = http->Send({"POST", url, {}, std::string(100 << 10, 'e')}, absl::Now() + absl::Seconds(10));
  // libcurl may see the 413 or a reset while still sending; either way the connection is gone.
  if (first.ok()) EXPECT_EQ(first->status, 413);
  auto second = http->Send({"POST", url, {}, "small"}, absl::Now() + absl::Seconds(5));
  ASSERT_THAT(second, IsOk());
  EXPECT_EQ(second->status, 200);
  EXPECT_EQ(accepted.load(), 2);
  ::shutdown(listener, SHUT_RDWR);
  ::close(listener);
  server.join();
}

TEST(CheckHttpUrlTest, AcceptsAbsoluteHttpUrlsOnly) {
  EXPECT_THAT(CheckHttpUrl("http://169.254.169.254", {"http"}, "IMDS URL"), IsOk());
  EXPECT_THAT(CheckHttpUrl("http://127.0.0.1:41234/", {"http"}, "IMDS URL"), IsOk());
  EXPECT_THAT(CheckHttpUrl("https://kbs.example:8080", {"http", "https"}, "KBS URL"), IsOk());
  EXPECT_THAT(CheckHttpUrl("http://[::1]:8080", {"http"}, "URL"), IsOk());
  EXPECT_THAT(CheckHttpUrl("https://169.254.169.254", {"http"}, "IMDS URL"),
              StatusIs(absl::StatusCode::kInvalidArgument, "must start with http://"));
  EXPECT_THAT(CheckHttpUrl("http://host:port", {"http"}, "IMDS URL"),
              StatusIs(absl::StatusCode::kInvalidArgument, "IMDS URL"));
  EXPECT_THAT(CheckHttpUrl("169.254.169.254", {"http"}, "IMDS URL"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(CheckHttpUrl("http://user:pw@host", {"http"}, "URL"),
              StatusIs(absl::StatusCode::kInvalidArgument, "user info"));
  EXPECT_THAT(CheckHttpUrl("", {"http"}, "URL"), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace cdh::http
