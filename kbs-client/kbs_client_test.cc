// KbsClient against a scripted HTTP fake: what real servers rarely produce on demand (backoff
// against the deadline, odd /auth and /attest answers) and what must never leak (credentials in
// messages). The sample attester stands in for a TEE.
#include "kbs-client/kbs_client.h"

#include "absl/strings/cord.h"
#include "attestation/sample_attester.h"
#include "common/base64.h"
#include "common/module_loader.h"
#include "common/strings.h"
#include "common/testing/status_matchers.h"
#include "gtest/gtest.h"
#include "http/fake_http_client.h"
#include "kbs-client/kbs_protocol.h"
#include "kbs-dev/kbs_server_messages.h"

namespace cdh::kbs {
namespace {

using ::cdh::testing::IsOk;
using ::cdh::testing::StatusIs;

http::HttpResponse Resp(int status, std::string body, std::vector<std::pair<std::string, std::string>> headers = {}) {
  http::HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}
http::HttpResponse Challenge() {
  return Resp(200, BuildChallenge("bm9uY2U="),
              {{"set-cookie", "kbs-session-id=c0ffee; Expires=Sun, 29 Nov 2026 10:00:00 GMT"}});
}
std::string Token(int64_t exp) {
  return StrCat("eyJhbGciOiJFUzI1NiJ9.", Base64UrlEncode(StrCat("{\"exp\":", exp, "}")), ".c2ln");
}

struct Harness {
  explicit Harness(KbsClientOptions o = {}) {
    auto owned = std::make_unique<http::FakeHttpClient>();
    http = owned.get();
    o.url = "http://kbs.test:8080/";
    o.initial_backoff = absl::Milliseconds(50);
    client = std::move(KbsClient::New(o, std::move(owned), std::make_unique<attestation::SampleAttester>())).value();
  }
  absl::StatusOr<SecretBytes> Get(absl::Duration timeout = absl::Seconds(10)) {
    return client->GetResource("resource", "default/key/1", std::nullopt, CallContext::WithTimeout(timeout));
  }
  http::FakeHttpClient* http;
  std::unique_ptr<KbsClient> client;
};

TEST(KbsClientFakeTest, BackoffStopsAtTheCallersDeadline) {
  Harness h;
  h.http->Answer(absl::UnavailableError("connection refused"));
  absl::Time t0 = absl::Now();
  auto r = h.Get(absl::Milliseconds(120));
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kUnavailable));
  // Tries at 0 ms and 50 ms; the next backoff (100 ms) would pass the 120 ms deadline.
  EXPECT_EQ(h.http->requests().size(), 2u);
  EXPECT_LT(absl::Now() - t0, absl::Milliseconds(120));
}

// In the daemon, libcurl is a module (common/module_loader.h); a missing one is reported as such,
// not as a TLS failure, although both are FAILED_PRECONDITION.
TEST(KbsClientFakeTest, MissingHttpModuleIsNotReportedAsTls) {
  Harness h;
  absl::Status missing = absl::FailedPreconditionError("HTTP support (libcurl) cannot be loaded; install cdh-curl.so");
  missing.SetPayload(kModuleLoadFailure, absl::Cord("1"));
  h.http->Answer(missing);
  auto r = h.Get();
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kFailedPrecondition, ::testing::HasSubstr("cdh-curl.so")));
  EXPECT_THAT(std::string(r.status().message()), ::testing::Not(::testing::HasSubstr("TLS")));
  Harness tls;
  tls.http->Answer(absl::FailedPreconditionError("certificate verify failed"));
  EXPECT_THAT(tls.Get(),
              StatusIs(absl::StatusCode::kFailedPrecondition, ::testing::HasSubstr("TLS: check kbc.kbs_cert")));
}

TEST(KbsClientFakeTest, CallBudgetBoundsACallWithoutDeadline) {
  KbsClientOptions o;
  o.call_budget = absl::Milliseconds(120);
  Harness h(o);
  h.http->Answer(absl::UnavailableError("connection refused"));
  auto r = h.client->GetResource("resource", "default/key/1", std::nullopt, CallContext{});  // no deadline
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(h.http->requests().size(), 2u);
}

TEST(KbsClientFakeTest, RequestsHaveTheProtocolShapeAndCredentialsNeverReachMessages) {
  Harness h;
  int64_t exp = absl::ToUnixSeconds(absl::Now()) + 300;
  h.http->Answer(Challenge());
  h.http->Answer(Resp(200, StrCat("{\"token\":\"", Token(exp), "\"}")));
  h.http->Answer(Resp(401, BuildProblem("PolicyDeny", "Access denied by policy")));
  auto r = h.Get();
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kPermissionDenied));
  std::string msg(r.status().message());
  EXPECT_THAT(msg, ::testing::Not(::testing::HasSubstr("c0ffee"))) << msg;
  EXPECT_THAT(msg, ::testing::Not(::testing::HasSubstr(Token(exp)))) << msg;
  auto reqs = h.http->requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].url, "http://kbs.test:8080/kbs/v0/auth");  // trailing '/' of the base URL dropped
  EXPECT_EQ(reqs[0].body, BuildAuthRequest("sample"));
  EXPECT_EQ(reqs[1].url, "http://kbs.test:8080/kbs/v0/attest");
  auto attest = ParseAttestRequest(reqs[1].body);
  ASSERT_THAT(attest, IsOk());
  EXPECT_EQ(attest->nonce, "bm9uY2U=");
  EXPECT_EQ(attest->tee_pubkey.size(), 5u);
  EXPECT_EQ(reqs[2].url, "http://kbs.test:8080/kbs/v0/resource/default/key/1");
  // Credentials travel as secret headers only.
  ASSERT_NE(reqs[1].SecretHeaderValue("Cookie"), nullptr);
  EXPECT_EQ(reqs[1].SecretHeaderValue("Cookie")->RevealString(), "kbs-session-id=c0ffee");
  ASSERT_NE(reqs[2].SecretHeaderValue("Cookie"), nullptr);
  EXPECT_EQ(reqs[2].SecretHeaderValue("Cookie")->RevealString(), "kbs-session-id=c0ffee");
  ASSERT_NE(reqs[2].SecretHeaderValue("Authorization"), nullptr);
  EXPECT_EQ(reqs[2].SecretHeaderValue("Authorization")->RevealString(), "Bearer " + Token(exp));
  for (const auto& r : reqs) {
    for (const auto& [k, v] : r.headers) EXPECT_TRUE(k != "Cookie" && k != "Authorization") << k;
  }
}

// A token too large for a header line is not sent as a bearer token: the session cookie
// carries the session alone. Without a cookie, the call fails at once naming the size.
TEST(KbsClientFakeTest, TokenTooLargeForAHeaderLineGoesByCookieOnly) {
  Harness h;
  std::string big =
      StrCat("eyJhbGciOiJFUzI1NiJ9.",
             Base64UrlEncode(StrCat("{\"exp\":4102444800,\"pad\":\"", std::string(171 * 1024, 'x'), "\"}")), ".c2ln");
  h.http->Answer(Challenge());
  h.http->Answer(Resp(200, StrCat("{\"token\":\"", big, "\"}")));
  h.http->Answer(Resp(404, ""));
  EXPECT_THAT(h.Get(), StatusIs(absl::StatusCode::kNotFound));
  auto reqs = h.http->requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[2].SecretHeaderValue("Authorization"), nullptr);
  ASSERT_NE(reqs[2].SecretHeaderValue("Cookie"), nullptr);
}

// 431 to a request with the bearer token: retried once with the cookie alone; 431 again: the
// size is named.
TEST(KbsClientFakeTest, Answer431RetriesWithoutTheBearerTokenThenNamesTheSize) {
  Harness h;
  h.http->Answer(Challenge());
  h.http->Answer(Resp(200, StrCat("{\"token\":\"", Token(4102444800), "\"}")));
  h.http->Answer(Resp(431, "Request Header Fields Too Large"));
  auto r = h.Get();
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kFailedPrecondition, "431"));
  auto reqs = h.http->requests();
  ASSERT_EQ(reqs.size(), 4u);
  EXPECT_NE(reqs[2].SecretHeaderValue("Authorization"), nullptr);
  EXPECT_EQ(reqs[3].SecretHeaderValue("Authorization"), nullptr);
  EXPECT_NE(reqs[3].SecretHeaderValue("Cookie"), nullptr);
}

// Every cookie set by /auth goes back on /attest and on resource requests.
TEST(KbsClientFakeTest, ExtraCookiesGoBack) {
  Harness h;
  h.http->Answer(Resp(200, BuildChallenge("bm9uY2U="),
                      {{"set-cookie", "kbs-session-id=c0ffee"}, {"set-cookie", "LB=node-7; Path=/"}}));
  h.http->Answer(Resp(200, StrCat("{\"token\":\"", Token(4102444800), "\"}")));
  h.http->Answer(Resp(404, ""));
  EXPECT_THAT(h.Get(), StatusIs(absl::StatusCode::kNotFound));
  auto reqs = h.http->requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[1].SecretHeaderValue("Cookie")->RevealString(), "kbs-session-id=c0ffee; LB=node-7");
  EXPECT_EQ(reqs[2].SecretHeaderValue("Cookie")->RevealString(), "kbs-session-id=c0ffee; LB=node-7");
}

// A caller that has departed sends nothing to the broker.
TEST(KbsClientFakeTest, DepartedCallerSendsNothing) {
  Harness h;
  h.http->Answer(absl::UnavailableError("connection refused"));
  auto departure = std::make_shared<Cancellation>();
  departure->Cancel();
  auto r = h.client->GetResource("resource", "default/key/1", std::nullopt,
                                 CallContext(absl::Now() + absl::Seconds(10), departure));
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kCancelled));
  EXPECT_EQ(h.http->requests().size(), 0u);
}

TEST(KbsClientFakeTest, MalformedHandshakeAnswersAreCleanErrors) {
  struct Case {
    const char* name;
    std::vector<http::HttpResponse> answers;
    absl::StatusCode code;
  };
  std::vector<Case> cases = {
      {"auth without cookie", {Resp(200, BuildChallenge("n"))}, absl::StatusCode::kUnavailable},
      {"auth 401 non-version",
       {Resp(401, BuildProblem("AttestationError", "unknown tee"))},
       absl::StatusCode::kUnauthenticated},
      {"auth 404", {Resp(404, "")}, absl::StatusCode::kFailedPrecondition},
      {"attest 401",
       {Challenge(), Resp(401, BuildProblem("AttestationError", "RCAR handshake Attest failed"))},
       absl::StatusCode::kUnauthenticated},
      {"attest not JSON", {Challenge(), Resp(200, "token")}, absl::StatusCode::kUnavailable},
      {"token not a JWT", {Challenge(), Resp(200, R"({"token":"abc"})")}, absl::StatusCode::kUnavailable},
      {"token exp not a number",
       {Challenge(), Resp(200, StrCat("{\"token\":\"a.", Base64UrlEncode(std::string(R"({"exp":"x"})")), ".c\"}"))},
       absl::StatusCode::kUnavailable},
      {"GET 401 without a problem body",
       {Challenge(), Resp(200, StrCat("{\"token\":\"", Token(4102444800), "\"}")), Resp(401, "Unauthorized")},
       absl::StatusCode::kUnauthenticated},
      {"GET 200 not a JWE",
       {Challenge(), Resp(200, StrCat("{\"token\":\"", Token(4102444800), "\"}")), Resp(200, "<html>")},
       absl::StatusCode::kDataLoss},  // a broken broker answer (docs/errors.md)
      {"GET 413",
       {Challenge(), Resp(200, StrCat("{\"token\":\"", Token(4102444800), "\"}")), Resp(413, "too big")},
       absl::StatusCode::kFailedPrecondition},
  };
  for (auto& c : cases) {
    Harness h;
    for (auto& a : c.answers) h.http->Answer(a);
    auto r = h.Get();
    EXPECT_THAT(r, StatusIs(c.code)) << c.name;
    EXPECT_LE(h.http->requests().size(), 9u) << c.name;  // bounded, whatever the answers
  }
}

TEST(KbsClientFakeTest, RejectsBadConfiguration) {
  auto make = [](std::string url, int attempts) {
    KbsClientOptions o;
    o.url = url;
    o.max_attempts = attempts;
    return KbsClient::New(o, std::make_unique<http::FakeHttpClient>(), std::make_unique<attestation::SampleAttester>())
        .status();
  };
  EXPECT_THAT(make("ftp://kbs", 3), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(make("http://kbs?x=1", 3), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(make("http://kbs", 0), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(make("https://kbs:8080", 3), IsOk());
}

}  // namespace
}  // namespace cdh::kbs
