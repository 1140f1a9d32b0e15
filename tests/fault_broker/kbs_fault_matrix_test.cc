// The broker fault matrix: the real KBS client (KbsClient over CurlHttpClient, the sample
// attester standing in for a TEE, which a test machine lacks) against a broker that misbehaves
// on demand (tests/fault_broker/fault_broker.py on 127.0.0.1). Each fault must give the code
// KbsClient documents (kbs-client/kbs_client.h) within the caller's deadline, never hang, and
// leave no poisoned connection behind: the same client's next call, once the broker is healthy
// again, succeeds.
#include <thread>

#include <gtest/gtest.h>

#include "absl/time/clock.h"
#include "attestation/sample_attester.h"
#include "common/testing/status_matchers.h"
#include "kbs-client/kbs_client.h"
#include "tests/fault_broker/fault_broker.h"

namespace cdh::testing {
namespace {

using ::cdh::testing::IsOk;
using ::cdh::testing::StatusIs;

constexpr absl::Duration kCallerDeadline = absl::Seconds(3);
// Room for a loaded machine: libcurl's own timers end a transfer at the deadline.
constexpr absl::Duration kSlack = absl::Seconds(2);

std::unique_ptr<kbs::KbsClient> NewClient(const std::string& url, const std::string& ca_pem = "") {
  kbs::KbsConnectionConfig connection;
  connection.url = url;
  connection.kbs_cert_pem = ca_pem;
  connection.max_response_bytes = 1 << 20;
  kbs::KbsClientOptions options;
  options.initial_backoff = absl::Milliseconds(50);
  auto client = kbs::NewCurlKbsClient(connection, options, std::make_unique<attestation::SampleAttester>());
  EXPECT_THAT(client, IsOk());
  return client.ok() ? std::move(client).value() : nullptr;
}

absl::StatusOr<SecretBytes> Get(kbs::KbsClient& client, absl::Duration timeout = kCallerDeadline) {
  return client.GetResource("resource", "default/key/1", std::nullopt, CallContext::WithTimeout(timeout));
}

class KbsFaultMatrixTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto b = FaultBroker::Start();
    ASSERT_THAT(b, IsOk());
    broker_ = std::move(b).value();
  }
  std::unique_ptr<FaultBroker> broker_;
};

struct FaultCase {
  const char* mode;
  absl::StatusCode code;
  const char* message;  // a substring the caller's message must hold
};

TEST_F(KbsFaultMatrixTest, EachFaultGivesItsCodeInTimeAndTheNextCallSucceeds) {
  const FaultCase cases[] = {
      {"auth:silent", absl::StatusCode::kDeadlineExceeded, "deadline"},
      {"resource:silent", absl::StatusCode::kDeadlineExceeded, "deadline"},
      {"resource:drip", absl::StatusCode::kDeadlineExceeded, "deadline"},
      {"resource:503", absl::StatusCode::kUnavailable, "backend overloaded"},
      {"auth:503", absl::StatusCode::kUnavailable, "503"},
      {"resource:truncated", absl::StatusCode::kUnavailable, ""},
      {"resource:reset", absl::StatusCode::kUnavailable, ""},
      {"resource:401", absl::StatusCode::kUnauthenticated, "unauthorized after 3 attempts"},
      {"resource:oversize", absl::StatusCode::kResourceExhausted, "exceeds"},
      {"resource:redirect", absl::StatusCode::kFailedPrecondition, "302"},
      {"attest:413", absl::StatusCode::kFailedPrecondition, "413"},
      {"resource:431-always", absl::StatusCode::kFailedPrecondition, "431"},
  };
  for (const FaultCase& c : cases) {
    SCOPED_TRACE(c.mode);
    // A new client per case, so that handshake faults meet a handshake (no cached token).
    auto client = NewClient(broker_->url());
    ASSERT_NE(client, nullptr);
    broker_->SetMode(c.mode);
    absl::Time start = absl::Now();
    auto r = Get(*client);
    EXPECT_THAT(r, StatusIs(c.code, c.message));
    EXPECT_LT(absl::Now() - start, kCallerDeadline + kSlack);
    broker_->SetMode("healthy");
    auto next = Get(*client, absl::Seconds(10));
    ASSERT_THAT(next, IsOk()) << broker_->Log();
    EXPECT_EQ(next->RevealString(), "healthy-secret");
  }
}

TEST_F(KbsFaultMatrixTest, RefusedConnectionsAreUnavailableInTime) {
  auto client = NewClient(RefusingUrl());
  ASSERT_NE(client, nullptr);
  absl::Time start = absl::Now();
  EXPECT_THAT(Get(*client), StatusIs(absl::StatusCode::kUnavailable, "KBS unreachable"));
  EXPECT_LT(absl::Now() - start, kCallerDeadline + kSlack);
}

// A 413 to /attest sent before the body was read, on a connection the broker keeps but never
// answers again: the client must not put that connection back into its pool.
TEST_F(KbsFaultMatrixTest, ConnectionLeftByAnEarly413IsNotReused) {
  auto client = NewClient(broker_->url());
  ASSERT_NE(client, nullptr);
  broker_->SetMode("attest:413");
  EXPECT_THAT(Get(*client), StatusIs(absl::StatusCode::kFailedPrecondition, "413"));
  broker_->SetMode("healthy");
  absl::Time start = absl::Now();
  auto next = Get(*client, absl::Seconds(20));
  ASSERT_THAT(next, IsOk());
  // Far below the 20 s a reused, dead connection would have cost.
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
}

TEST_F(KbsFaultMatrixTest, TlsFailuresAreFailedPrecondition) {
  struct TlsCase {
    std::string url;
    std::string ca;
    const char* name;
  };
  const TlsCase cases[] = {
      {broker_->tls_url("good"), broker_->other_ca_pem(), "wrong CA"},
      {broker_->tls_url("expired"), broker_->ca_pem(), "expired certificate"},
      {broker_->tls_url("wronghost"), broker_->ca_pem(), "wrong host name"},
  };
  for (const TlsCase& c : cases) {
    SCOPED_TRACE(c.name);
    auto client = NewClient(c.url, c.ca);
    ASSERT_NE(client, nullptr);
    absl::Time start = absl::Now();
    EXPECT_THAT(Get(*client), StatusIs(absl::StatusCode::kFailedPrecondition, "TLS"));
    EXPECT_LT(absl::Now() - start, kCallerDeadline + kSlack);
  }
  // The healthy TLS listener with the right anchor works.
  auto good = NewClient(broker_->tls_url("good"), broker_->ca_pem());
  ASSERT_NE(good, nullptr);
  auto r = Get(*good, absl::Seconds(10));
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->RevealString(), "healthy-secret");
}

// A load balancer sets its affinity cookie next to kbs-session-id; /attest reaches the right
// backend only with both.
TEST_F(KbsFaultMatrixTest, EveryCookieTheBrokerSetsGoesBack) {
  auto client = NewClient(broker_->url());
  ASSERT_NE(client, nullptr);
  broker_->SetMode("auth:extra-cookie");
  auto r = Get(*client, absl::Seconds(10));
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->RevealString(), "healthy-secret");
}

// A 171 KB attestation token does not fit a header line: the resource request relies on the
// session cookie alone instead of drawing 431.
TEST_F(KbsFaultMatrixTest, TokenTooLargeForAHeaderGoesByTheSessionCookie) {
  auto client = NewClient(broker_->url());
  ASSERT_NE(client, nullptr);
  broker_->SetMode("attest:bigtoken");
  auto r = Get(*client, absl::Seconds(10));
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->RevealString(), "healthy-secret");
}

// A broker (or proxy) with a lower limit answers 431 to the bearer token: the client retries
// with the session cookie alone.
TEST_F(KbsFaultMatrixTest, Answer431DropsTheBearerToken) {
  auto client = NewClient(broker_->url());
  ASSERT_NE(client, nullptr);
  broker_->SetMode("resource:431-if-bearer");
  auto r = Get(*client, absl::Seconds(10));
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->RevealString(), "healthy-secret");
}

// A departed caller (CallContext::cancellation) stops waiting on a silent broker at once, and
// the broker sees its connection closed.
TEST_F(KbsFaultMatrixTest, DepartedCallerAbandonsTheBroker) {
  auto client = NewClient(broker_->url());
  ASSERT_NE(client, nullptr);
  broker_->SetMode("auth:silent");
  auto departure = std::make_shared<Cancellation>();
  absl::StatusOr<SecretBytes> result = absl::UnknownError("not run");
  std::thread caller([&] {
    result = client->GetResource("resource", "default/key/1", std::nullopt,
                                 CallContext{absl::Now() + absl::Seconds(60), departure});
  });
  // Wait (bounded, polled: the broker is another process) until the request is at the broker.
  for (int i = 0; i < 1000 && broker_->Stats().value("auth", 0) < 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  absl::Time start = absl::Now();
  departure->Cancel();
  caller.join();
  EXPECT_THAT(result, StatusIs(absl::StatusCode::kCancelled));
  EXPECT_LT(absl::Now() - start, kSlack);
}

// Concurrent callers behind one failing handshake all get its answer: the broker sees one
// handshake's worth of /auth requests, not one per caller.
TEST_F(KbsFaultMatrixTest, OneFailedHandshakeAnswersEveryoneWaiting) {
  auto client = NewClient(broker_->url());
  ASSERT_NE(client, nullptr);
  broker_->SetMode("auth:503");
  constexpr int kCallers = 100;
  std::vector<std::thread> callers;
  std::atomic<int> unavailable{0};
  for (int i = 0; i < kCallers; ++i) {
    callers.emplace_back([&] {
      if (absl::IsUnavailable(Get(*client, absl::Seconds(30)).status())) ++unavailable;
    });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(unavailable.load(), kCallers);
  // Each handshake makes up to 3 tries; callers arriving after one handshake ended start another,
  // so a few handshakes are possible, never one per caller.
  EXPECT_LE(broker_->Stats().value("auth", 0), 3 * 10);
}

}  // namespace
}  // namespace cdh::testing
