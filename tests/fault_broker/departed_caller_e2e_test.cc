// Departed callers and stuck brokers, end to end: the real `confidential-data-hub` binary
// (cc_kbc; the sample attester stands in for the TEE a test machine lacks) against the fault
// broker (tests/fault_broker/fault_broker.py) on 127.0.0.1.
//  - Calls hanging on a silent broker do not hold back unrelated calls on the kata agent's one
//    connection; when the client closes the connection its calls stop waiting on the broker.
//  - gRPC calls the client abandons (deadline) release the broker and their threads.
//  - Callers queued behind a failing handshake all get its answer.
#include <atomic>
#include <filesystem>
#include <thread>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "absl/time/clock.h"
#include "common/strings.h"
#include "common/testing/status_matchers.h"
#include "proto/api.grpc.pb.h"
#include "proto/api.pb.h"
#include "tests/daemon_fixture.h"
#include "tests/fault_broker/fault_broker.h"
#include "tests/test_util.h"
#include "tests/ttrpc/raw_conn.h"

namespace cdh::testing {
namespace {

using ::cdh::testing::IsOk;
using ::cdh::testing::StatusIs;

std::string GetResourcePayload(std::string_view uri) {
  api::GetResourceRequest req;
  req.set_resourcepath(std::string(uri));
  return req.SerializeAsString();
}
std::string UnsealPayload(std::string_view secret) {
  api::UnsealSecretInput req;
  req.set_secret(std::string(secret));
  return req.SerializeAsString();
}
int CountEntries(const std::string& dir) {
  int n = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(dir, ec); !ec && it != std::filesystem::directory_iterator();
       it.increment(ec)) {
    ++n;
  }
  return n;
}

class DepartedCallerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto b = FaultBroker::Start();
    ASSERT_THAT(b, IsOk());
    broker_ = std::move(b).value();
  }

  void StartDaemon(bool grpc) {
    ttrpc_socket_ = dir_.File("ttrpc.sock");
    grpc_socket_ = grpc ? dir_.File("grpc.sock") : "";
    std::string config = dir_.Write(
        "cdh.toml", StrCat("socket = \"unix://", ttrpc_socket_, "\"\n", "grpc_socket = \"",
                           grpc ? StrCat("unix://", grpc_socket_) : "", "\"\n", "[kbc]\nname = \"cc_kbc\"\nurl = \"",
                           broker_->url(), "\"\n[attestation]\ntee = \"sample\"\n[paths]\nbase_dir = \"",
                           dir_.File("base"), "\"\n"));
    daemon_ = std::make_unique<Daemon>(config, dir_.File("daemon.log"));
    ASSERT_TRUE(daemon_->WaitForSocket(ttrpc_socket_)) << ReadFile(dir_.File("daemon.log"));
    if (grpc) ASSERT_TRUE(daemon_->WaitForSocket(grpc_socket_)) << ReadFile(dir_.File("daemon.log"));
  }
  int Threads() { return CountEntries(StrCat("/proc/", daemon_->pid(), "/task")); }

  // Polls (bounded: the daemon and the broker are other processes) until `done` holds.
  template <typename F>
  bool Eventually(F done, absl::Duration timeout) {
    for (absl::Time end = absl::Now() + timeout; absl::Now() < end;) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return done();
  }
  int BrokerOpen() { return broker_->Stats().value("open", -1); }

  TempDir dir_{"departed"};
  std::unique_ptr<FaultBroker> broker_;
  std::unique_ptr<Daemon> daemon_;
  std::string ttrpc_socket_, grpc_socket_;
};

// The kata agent's one connection: 12 GetResource calls hang on a broker that accepts and never
// answers; UnsealSecret("notsealed"), which needs no broker, still answers at once. Closing the
// connection cancels the hung calls: the daemon lets go of the broker and its extra workers.
TEST_F(DepartedCallerTest, StuckBrokerDoesNotBlockUnrelatedCallsAndClosingCancels) {
  StartDaemon(/*grpc=*/false);
  int base_threads = Threads();
  broker_->SetMode("auth:silent");
  auto agent = RawConn::Connect(ttrpc_socket_);
  ASSERT_NE(agent, nullptr);
  constexpr uint32_t kHung = 12;
  for (uint32_t i = 0; i < kHung; ++i) {
    ASSERT_TRUE(agent->SendRequest(2 * i + 1, "api.GetResourceService", "GetResource",
                                   GetResourcePayload("kbs:///default/key/1"),
                                   absl::ToInt64Nanoseconds(absl::Seconds(60))));
  }
  ASSERT_TRUE(Eventually([&] { return broker_->Stats().value("auth", 0) >= 1; }, absl::Seconds(20)));

  ASSERT_TRUE(agent->SendRequest(101, "api.SealedSecretService", "UnsealSecret", UnsealPayload("notsealed"),
                                 absl::ToInt64Nanoseconds(absl::Seconds(20))));
  absl::Time asked = absl::Now();
  auto reply = agent->ReadReply(absl::Seconds(20));
  ASSERT_TRUE(reply.has_value()) << "UnsealSecret was not answered";
  EXPECT_EQ(reply->stream_id, 101u);
  EXPECT_THAT(reply->status, StatusIs(absl::StatusCode::kInvalidArgument));
  std::cout << "UnsealSecret answered in " << absl::FormatDuration(absl::Now() - asked) << " with " << kHung
            << " calls hung on the broker\n";

  agent->Close();
  EXPECT_TRUE(Eventually([&] { return BrokerOpen() == 0; }, absl::Seconds(10)))
      << "the daemon still holds " << BrokerOpen() << " connections to the broker";
  // Workers beyond the kept ones leave after 5 s without work. The daemon starts with none
  // (they start on first use) and keeps up to 8 (ServerOptions::worker_threads).
  constexpr int kKeptWorkers = 8;
  EXPECT_TRUE(Eventually([&] { return Threads() <= base_threads + kKeptWorkers; }, absl::Seconds(20)))
      << Threads() << " threads, " << base_threads << " at start";
  EXPECT_TRUE(daemon_->Running());
}

// gRPC calls abandoned by their clients (deadline) release the broker and their threads long
// before the broker call budget (2 min) would have.
TEST_F(DepartedCallerTest, AbandonedGrpcCallsReleaseTheBrokerAndTheirThreads) {
  StartDaemon(/*grpc=*/true);
  auto channel = grpc::CreateChannel("unix:" + grpc_socket_, grpc::InsecureChannelCredentials());
  auto stub = api::GetResourceService::NewStub(channel);
  {
    // Warm up the channel and the server's threads with a call that fails fast.
    grpc::ClientContext ctx;
    api::GetResourceRequest req;
    req.set_resourcepath("not a uri");
    api::GetResourceResponse resp;
    (void)stub->GetResource(&ctx, req, &resp);
  }
  int base_threads = Threads();
  broker_->SetMode("auth:silent");
  constexpr int kCalls = 50;
  std::atomic<int> deadline_exceeded{0};
  std::vector<std::thread> callers;
  for (int i = 0; i < kCalls; ++i) {
    callers.emplace_back([&] {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
      api::GetResourceRequest req;
      req.set_resourcepath("kbs:///default/key/1");
      api::GetResourceResponse resp;
      if (stub->GetResource(&ctx, req, &resp).error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) ++deadline_exceeded;
    });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(deadline_exceeded.load(), kCalls);
  int peak = Threads();
  EXPECT_TRUE(Eventually([&] { return BrokerOpen() == 0; }, absl::Seconds(10)))
      << "the daemon still holds " << BrokerOpen() << " connections to the broker";
  // gRPC keeps a few polling threads of its own; the abandoned calls' threads are gone.
  EXPECT_TRUE(Eventually([&] { return Threads() <= base_threads + 4; }, absl::Seconds(30)))
      << Threads() << " threads now, " << peak << " at the peak, " << base_threads << " before";
  std::cout << "daemon threads: " << base_threads << " before, " << peak << " after " << kCalls << " abandoned calls, "
            << Threads() << " once released\n";
}

// 200 callers behind a handshake that fails (the broker answers /auth 503) all get UNAVAILABLE,
// and the broker sees a few handshakes' worth of /auth requests, not one handshake per caller.
TEST_F(DepartedCallerTest, FailedHandshakeAnswersEveryCallerQueuedBehindIt) {
  StartDaemon(/*grpc=*/false);
  broker_->SetMode("auth:503");
  constexpr int kConnections = 2, kPerConnection = 100;
  std::vector<std::unique_ptr<RawConn>> conns;
  for (int c = 0; c < kConnections; ++c) {
    conns.push_back(RawConn::Connect(ttrpc_socket_));
    ASSERT_NE(conns.back(), nullptr);
  }
  absl::Time start = absl::Now();
  for (auto& conn : conns) {
    for (uint32_t i = 0; i < kPerConnection; ++i) {
      ASSERT_TRUE(conn->SendRequest(2 * i + 1, "api.GetResourceService", "GetResource",
                                    GetResourcePayload("kbs:///default/key/1"),
                                    absl::ToInt64Nanoseconds(absl::Seconds(120))));
    }
  }
  int unavailable = 0;
  for (auto& conn : conns) {
    for (int i = 0; i < kPerConnection; ++i) {
      auto r = conn->ReadReply(absl::Seconds(120));
      ASSERT_TRUE(r.has_value());
      if (absl::IsUnavailable(r->status)) ++unavailable;
    }
  }
  EXPECT_EQ(unavailable, kConnections * kPerConnection);
  int auths = broker_->Stats().value("auth", 0);
  EXPECT_LE(auths, 3 * 10);
  std::cout << kConnections * kPerConnection << " calls behind a failing handshake cleared in "
            << absl::FormatDuration(absl::Now() - start) << " with " << auths << " /auth requests\n";
}

}  // namespace
}  // namespace cdh::testing
