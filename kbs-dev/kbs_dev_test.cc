// KbsClient against kbs-dev over real sockets: token reuse, single flight, expiry, a rejected
// protocol version, 401/403/404 handling, HTTPS with a private CA (tolerant parsing is in
// kbs_protocol_test).
// The sample attester stands in for a TEE here: no TEE exists on the test machine, and kbs-dev
// accepts sample evidence only (it checks the nonce and the report-data binding, as Trustee's
// sample verifier does).
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "attestation/sample_attester.h"
#include "common/base64.h"
#include "common/file_util.h"
#include "common/json.h"
#include "common/strings.h"
#include "common/testing/status_matchers.h"
#include "gtest/gtest.h"
#include "http/curl_http_client.h"
#include "kbs-client/kbs_client.h"
#include "kbs-client/kbs_protocol.h"
#include "kbs-dev/kbs_dev_server.h"
#include "tests/kbs_kat_vectors.h"

namespace cdh::kbsdev {
namespace {

using ::cdh::testing::IsOk;
using ::cdh::testing::StatusIs;

using kbs::KbsClient;
using kbs::KbsClientOptions;

std::string TempDir(const std::string& tag) {
  std::string dir = StrCat(::testing::TempDir(), "/kbsdev-", ::getpid(), "-", tag, "-",
                           ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

class KbsDevTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TempDir("res");
    StartServer({});
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }
  void StartServer(KbsDevOptions o) {
    server_.reset();
    o.resource_dir = dir_;
    if (o.admin_public_key_pem.empty()) o.insecure_admin = true;
    auto s = KbsDevServer::Start(o);
    ASSERT_THAT(s, IsOk());
    server_ = std::move(s).value();
  }
  // Stores a resource through the admin endpoint, as `kbs-client config set-resource` would.
  void Put(const std::string& path, const std::string& bytes) {
    auto http = http::CurlHttpClient::New({});
    auto r = (*http)->Send({"POST",
                            StrCat(server_->url(), "/kbs/v0/resource/", path),
                            {{"Content-Type", "application/octet-stream"}},
                            bytes},
                           absl::Now() + absl::Seconds(10));
    ASSERT_THAT(r, IsOk());
    ASSERT_EQ(r->status, 200) << r->body;
  }
  std::unique_ptr<KbsClient> Client(KbsClientOptions o = {}, http::CurlHttpClientOptions h = {}) {
    o.url = server_->url();
    if (o.initial_backoff == absl::Milliseconds(100)) o.initial_backoff = absl::Milliseconds(10);
    auto http = http::CurlHttpClient::New(h);
    EXPECT_THAT(http, IsOk());
    auto c = KbsClient::New(o, std::move(http).value(), std::make_unique<attestation::SampleAttester>());
    EXPECT_THAT(c, IsOk());
    return std::move(c).value();
  }
  absl::StatusOr<SecretBytes> Get(KbsClient& c, std::string_view path = "default/key/1") {
    return c.GetResource("resource", path, std::nullopt, CallContext::WithTimeout(absl::Seconds(20)));
  }

  std::string dir_;
  std::unique_ptr<KbsDevServer> server_;
};

TEST_F(KbsDevTest, HandshakeOnceThenTokenReused) {
  Put("default/key/1", "the dataset key");
  auto client = Client();
  for (int i = 0; i < 5; ++i) {
    auto r = Get(*client);
    ASSERT_THAT(r, IsOk());
    EXPECT_EQ(r->RevealString(), "the dataset key");
  }
  EXPECT_EQ(server_->stats().attest, 1u);
  EXPECT_EQ(server_->stats().resource_get, 5u);
  EXPECT_EQ(client->stats().handshakes, 1u);
}

TEST_F(KbsDevTest, RsaOaep256TeeKeyWorks) {
  Put("default/key/rsa", std::string(3000, 'r'));
  KbsClientOptions o;
  o.key_algorithm = kbs::TeeKeyAlgorithm::kRsa2048;
  auto client = Client(o);
  auto r = Get(*client, "default/key/rsa");
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->RevealString(), std::string(3000, 'r'));
}

TEST_F(KbsDevTest, QueryAndBinaryPayloadPassThrough) {
  std::string binary;
  for (int i = 0; i < 256; ++i) binary.push_back(static_cast<char>(i));
  Put("repo/type/tag.v1", binary);
  auto client = Client();
  auto r = client->GetResource("resource", "repo/type/tag.v1", "a=b&c=d", CallContext::WithTimeout(absl::Seconds(20)));
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->RevealString(), binary);
}

TEST_F(KbsDevTest, ThirtyTwoConcurrentCallersShareOneHandshake) {
  Put("default/key/1", "k");
  auto client = Client();
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 32; ++i) {
    threads.emplace_back([&] {
      if (Get(*client).ok()) ok.fetch_add(1);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 32);
  EXPECT_EQ(server_->stats().attest, 1u);
  EXPECT_EQ(server_->stats().auth, 1u);
  EXPECT_EQ(server_->stats().resource_get, 32u);
}

// Expiry with a fake client clock: once the token is past `exp - leeway`, exactly one more
// handshake, shared by concurrent callers.
TEST_F(KbsDevTest, RefreshBeforeExpiryExactlyOnce) {
  Put("default/key/1", "k");
  std::atomic<int64_t> skew_s{0};
  KbsClientOptions o;
  o.clock = [&] { return absl::Now() + absl::Seconds(skew_s.load()); };
  auto client = Client(o);
  ASSERT_THAT(Get(*client), IsOk());
  EXPECT_EQ(server_->stats().attest, 1u);
  skew_s = 290;  // token lifetime 300 s, leeway 10 s: due for refresh
  std::vector<std::thread> threads;
  for (int i = 0; i < 16; ++i) threads.emplace_back([&] { EXPECT_THAT(Get(*client), IsOk()); });
  for (auto& t : threads) t.join();
  EXPECT_EQ(server_->stats().attest, 2u);
  EXPECT_EQ(server_->stats().resource_get, 17u);  // never a 401 round trip
}

// The first GET gets 401 (token revoked), one re-attestation, the second GET succeeds.
TEST_F(KbsDevTest, K2aRevokedTokenExactlyOneReattestation) {
  Put("default/key/1", "k");
  auto client = Client();
  ASSERT_THAT(Get(*client), IsOk());
  server_->RevokeTokens();
  auto r = Get(*client);
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(server_->stats().attest, 2u);
  EXPECT_EQ(server_->stats().resource_get, 3u);
}

// Policy always denies -> PERMISSION_DENIED naming the policy, after a bounded number of tries.
TEST_F(KbsDevTest, K2bPolicyDenialIsPermissionDeniedAndBounded) {
  Put("default/key/1", "k");
  auto client = Client();
  ASSERT_THAT(Get(*client), IsOk());  // warm: a cached token
  Misbehaviour m;
  m.deny_policy = true;
  server_->SetMisbehaviour(m);
  auto r = Get(*client);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kPermissionDenied, "policy")) << r.status();
  // One re-attestation (the cached token's claims might have been stale), then final.
  EXPECT_EQ(server_->stats().attest, 2u);
  EXPECT_EQ(server_->stats().resource_get, 3u);
  auto cold = Client();
  EXPECT_THAT(Get(*cold), StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(server_->stats().attest, 3u);  // a fresh token's denial is final at once
}

// 404 -> NOT_FOUND at once, with no attestation.
TEST_F(KbsDevTest, K2cNotFoundTriggersNoAttestation) {
  KbsDevOptions o;
  o.strict_not_found = true;
  StartServer(o);
  Put("default/key/1", "k");
  auto client = Client();
  ASSERT_THAT(Get(*client), IsOk());
  auto r = Get(*client, "default/key/missing");
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kNotFound)) << r.status();
  EXPECT_EQ(server_->stats().attest, 1u);
  // An unknown plugin is 404 on Trustee too.
  auto p = client->GetResource("nosuchplugin", "a/b/c", std::nullopt, CallContext::WithTimeout(absl::Seconds(5)));
  EXPECT_THAT(p, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(server_->stats().attest, 1u);
}

// Trustee's own answer for a missing resource is 401 PluginInternalError: reported as NOT_FOUND
// without re-attesting (Trustee verified the token before looking for the resource).
TEST_F(KbsDevTest, TrusteeStyleMissingResourceIsNotFound) {
  auto client = Client();
  auto r = Get(*client, "default/key/missing");
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kNotFound)) << r.status();
  EXPECT_EQ(server_->stats().attest, 1u);
  EXPECT_EQ(server_->stats().resource_get, 1u);
  // Warm: still one GET and no re-attestation (the token was fine; the resource is missing).
  EXPECT_THAT(Get(*client, "default/key/missing"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(server_->stats().attest, 1u);
  EXPECT_EQ(server_->stats().resource_get, 2u);
}

// The KBS issues tokens whose exp is already past: never cached, bounded attempts.
TEST_F(KbsDevTest, K2dAlreadyExpiredTokenNeverCachedNoSpin) {
  Put("default/key/1", "k");
  Misbehaviour m;
  m.expired_tokens = true;
  server_->SetMisbehaviour(m);
  auto client = Client();
  auto r = Get(*client);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kUnauthenticated)) << r.status();
  EXPECT_EQ(server_->stats().attest, 3u);  // max_attempts, each with its own token
  server_->SetMisbehaviour({});
  ASSERT_THAT(Get(*client), IsOk());  // nothing stale was cached
  EXPECT_EQ(server_->stats().attest, 4u);
}

TEST_F(KbsDevTest, TokenRejectedEveryTimeGivesUpAfterThreeAttempts) {
  Put("default/key/1", "k");
  Misbehaviour m;
  m.reject_tokens = true;
  server_->SetMisbehaviour(m);
  auto client = Client();
  auto r = Get(*client);
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kUnauthenticated, "TokenVerifierError")) << r.status();
  EXPECT_EQ(server_->stats().resource_get, 3u);
  EXPECT_EQ(server_->stats().attest, 3u);
}

// Protocol version rejected at /auth -> non-retryable, says so.
TEST_F(KbsDevTest, K1VersionMismatchIsReportedAndNotRetried) {
  Misbehaviour m;
  m.required_version = "0.5.0";
  server_->SetMisbehaviour(m);
  auto client = Client();
  auto r = Get(*client);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(std::string(r.status().message()), ::testing::HasSubstr("protocol version mismatch (client 0.4.0)"))
      << r.status();
  EXPECT_EQ(client->stats().http_requests, 1u);
}

TEST_F(KbsDevTest, K1ServerErrorTextIsRetriedThenUnavailable) {
  Misbehaviour m;
  m.fail_next = 100;
  server_->SetMisbehaviour(m);
  auto client = Client();
  auto r = Get(*client);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(std::string(r.status().message()), ::testing::HasSubstr("HTTP 500 (Internal Server Error)"))
      << r.status();
  EXPECT_EQ(client->stats().http_requests, 3u);
}

TEST_F(KbsDevTest, K1TransientServerErrorRecovers) {
  Put("default/key/1", "k");
  Misbehaviour m;
  m.fail_next = 1;
  server_->SetMisbehaviour(m);
  auto client = Client();
  ASSERT_THAT(Get(*client), IsOk());
  EXPECT_EQ(client->stats().http_requests, 4u);  // /auth twice, /attest, GET
}

TEST_F(KbsDevTest, K1AuthAnswerThatIsNotAChallenge) {
  Misbehaviour m;
  m.auth_not_challenge = true;
  server_->SetMisbehaviour(m);
  auto client = Client();
  auto r = Get(*client);
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kUnavailable, "not a challenge")) << r.status();
  EXPECT_EQ(client->stats().http_requests, 1u);
}

TEST_F(KbsDevTest, TruncatedBodyIsRetriedThenUnavailable) {
  Put("default/key/1", std::string(5000, 'x'));
  auto client = Client();
  Misbehaviour m;
  m.truncate_next = 1;
  server_->SetMisbehaviour(m);
  auto once = Get(*client);
  ASSERT_THAT(once, IsOk());  // the retry got the whole body
  m.truncate_next = 10;
  server_->SetMisbehaviour(m);
  auto r = Get(*client);
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kUnavailable)) << r.status();
}

// A resource answer that is not a JWE for our key is the broker's fault: DATA_LOSS, never
// INVALID_ARGUMENT or PERMISSION_DENIED (docs/errors.md), through the real client over HTTP.
TEST_F(KbsDevTest, BrokenJweAnswerIsDataLoss) {
  Put("default/key/1", "resource-bytes");
  auto client = Client();
  for (const char* how : {"plaintext", "flip_ciphertext", "off_curve_epk"}) {
    Misbehaviour m;
    m.corrupt_jwe = how;
    server_->SetMisbehaviour(m);
    auto r = Get(*client);
    EXPECT_THAT(r, StatusIs(absl::StatusCode::kDataLoss, "JWE")) << how << ": " << r.status();
  }
  server_->SetMisbehaviour({});
  EXPECT_THAT(Get(*client), IsOk());
}

TEST_F(KbsDevTest, ResponseBodyLimit) {
  Put("default/key/big", std::string(20000, 'b'));
  http::CurlHttpClientOptions h;
  h.max_response_bytes = 4096;
  auto client = Client({}, h);
  EXPECT_THAT(Get(*client, "default/key/big"), StatusIs(absl::StatusCode::kResourceExhausted));
}

TEST_F(KbsDevTest, DeadlineAndUnreachableBroker) {
  auto client = Client();
  CallContext past{absl::Now() - absl::Seconds(1)};
  EXPECT_THAT(client->GetResource("resource", "a/b/c", std::nullopt, past),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
  int port = server_->port();
  server_.reset();  // nothing listens there any more
  KbsClientOptions o;
  o.url = StrCat("http://127.0.0.1:", port);
  o.initial_backoff = absl::Milliseconds(10);
  auto c = KbsClient::New(o, std::move(http::CurlHttpClient::New({})).value(),
                          std::make_unique<attestation::SampleAttester>());
  auto r = (*c)->GetResource("resource", "a/b/c", std::nullopt, CallContext::WithTimeout(absl::Seconds(5)));
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kUnavailable)) << r.status();
  EXPECT_EQ((*c)->stats().http_requests, 3u);
  StartServer({});
}

TEST_F(KbsDevTest, MalformedPathsRejectedBeforeAnyRequest) {
  auto client = Client();
  for (const char* p : {"", "a//b", "../x/y", "a/b/c d", "a/b/c?x"}) {
    EXPECT_THAT(Get(*client, p), StatusIs(absl::StatusCode::kInvalidArgument)) << p;
  }
  EXPECT_EQ(client->stats().http_requests, 0u);
}

// §8.1 admin auth with the spec's Ed25519 token.
TEST_F(KbsDevTest, AdminAuthWithEdDsaBearer) {
  KbsDevOptions o;
  o.admin_public_key_pem = kat::kAdminPublicKeyPem;
  StartServer(o);
  auto http = std::move(http::CurlHttpClient::New({})).value();
  auto post = [&](std::string auth) {
    http::HttpRequest req{"POST", StrCat(server_->url(), "/kbs/v0/resource/default/key/1"), {}, "v"};
    if (!auth.empty()) req.headers.push_back({"Authorization", "Bearer " + auth});
    return std::move(http->Send(req, absl::Now() + absl::Seconds(5))).value();
  };
  EXPECT_EQ(post(kat::kAdminToken).status, 200);
  auto none = post("");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(kbs::ParseProblem(none.body)->type, "AdminAuthInitialization");
  std::string tampered = kat::kAdminToken;
  tampered[tampered.size() - 5] ^= 1;
  EXPECT_EQ(post(tampered).status, 401);
  EXPECT_EQ(server_->stats().admin, 1u);
  KbsDevOptions bad;
  bad.resource_dir = dir_;
  EXPECT_THAT(KbsDevServer::Start(bad), StatusIs(absl::StatusCode::kInvalidArgument));
}

// Hostile bodies never crash kbs-dev: deep nesting, junk, truncated JSON, wrong types.
TEST_F(KbsDevTest, HostileBodiesAreRejectedAndTheServerStaysUp) {
  auto http = std::move(http::CurlHttpClient::New({})).value();
  auto deadline = [] { return absl::Now() + absl::Seconds(10); };
  std::string nested = "{\"runtime-data\":" + std::string(500000, '[');
  for (std::string path : {"/kbs/v0/auth", "/kbs/v0/attest", "/kbs/v0/resource-policy", "/kbs-dev/v0/misbehave"}) {
    for (const std::string& body :
         {std::string(""), std::string("{"), std::string("[]"), std::string("null"), nested,
          std::string(R"({"version":1,"tee":[],"extra-params":{}})"),
          std::string(R"({"runtime-data":{"nonce":5,"tee-pubkey":"x"},"tee-evidence":{}})")}) {
      auto r = http->Send({"POST", server_->url() + path, {{"Cookie", "kbs-session-id=zzz"}}, body}, deadline());
      ASSERT_THAT(r, IsOk()) << path << " " << r.status();
      EXPECT_GE(r->status, 400) << path;
    }
  }
  auto health = http->Send({"GET", server_->url() + "/healthz", {}, ""}, deadline());
  ASSERT_THAT(health, IsOk());
  EXPECT_EQ(health->status, 200);
}

// `kbs-client config set-resource-policy` bodies: base64url (no padding) rego; kbs-dev tells a
// deny-all text from one with an allow rule, and rejects other encodings as Trustee does.
TEST_F(KbsDevTest, ResourcePolicyUploadSwitchesAllowAndDeny) {
  Put("default/key/1", "k");
  auto http = std::move(http::CurlHttpClient::New({})).value();
  auto post_policy = [&](const std::string& body) {
    return http->Send({"POST", server_->url() + "/kbs/v0/resource-policy", {}, body}, absl::Now() + absl::Seconds(5))
        ->status;
  };
  std::string deny = Base64UrlEncode(std::string("package policy\ndefault allow = false\n"));
  std::string allow =
      Base64UrlEncode(std::string("package policy\ndefault allow = false\nallow if { data.plugin == \"resource\" }\n"));
  auto client = Client();
  ASSERT_EQ(post_policy(StrCat("{\"policy\":\"", deny, "\"}")), 200);
  EXPECT_THAT(Get(*client), StatusIs(absl::StatusCode::kPermissionDenied));
  ASSERT_EQ(post_policy(StrCat("{\"policy\":\"", allow, "\"}")), 200);
  EXPECT_THAT(Get(*client), IsOk());
  EXPECT_EQ(post_policy(StrCat("{\"policy\":\"", allow, "==\"}")), 401);  // padded: ParsePolicyError
  EXPECT_EQ(post_policy("not json"), 401);
  auto bad_knob = http->Send({"POST", server_->url() + "/kbs-dev/v0/misbehave", {}, R"({"fail_next":"x"})"},
                             absl::Now() + absl::Seconds(5));
  EXPECT_EQ(bad_knob->status, 400);
}

// kbs-dev's /attest checks the nonce and the report-data binding (it would otherwise hand out
// secrets for any evidence).
TEST_F(KbsDevTest, AttestRejectsWrongBinding) {
  auto http = std::move(http::CurlHttpClient::New({})).value();
  auto deadline = absl::Now() + absl::Seconds(5);
  auto auth = http->Send({"POST", server_->url() + "/kbs/v0/auth", {}, kbs::BuildAuthRequest("sample")}, deadline);
  ASSERT_THAT(auth, IsOk());
  std::string cookie = auth->HeaderValues("set-cookie").at(0);
  cookie = cookie.substr(0, cookie.find(';'));
  auto challenge = kbs::ParseChallenge(auth->body);
  ASSERT_THAT(challenge, IsOk());
  auto jwk = *ParseJson(kat::kTeeJwk, "jwk");
  kbs::AttestRequest req{challenge->nonce, jwk, {{"svn", "1"}, {"report_data", kat::kSampleReportData}}, "", nullptr};
  auto r = http->Send({"POST", server_->url() + "/kbs/v0/attest", {{"Cookie", cookie}}, kbs::BuildAttestRequest(req)},
                      deadline);
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->status, 401);  // the KAT report data is for another nonce
  EXPECT_EQ(kbs::ParseProblem(r->body)->detail, "Attestation error: RCAR handshake Attest failed");
  req.nonce = "AAAA";
  auto digest = kbs::RuntimeDataDigest(crypto::HashAlgorithm::kSha384, challenge->nonce, jwk, "");
  req.primary_evidence["report_data"] = Base64StdEncode(*digest);
  EXPECT_EQ(http->Send({"POST", server_->url() + "/kbs/v0/attest", {{"Cookie", cookie}}, kbs::BuildAttestRequest(req)},
                       deadline)
                ->status,
            401);  // right binding, wrong nonce
  req.nonce = challenge->nonce;
  auto ok = http->Send({"POST", server_->url() + "/kbs/v0/attest", {{"Cookie", cookie}}, kbs::BuildAttestRequest(req)},
                       deadline);
  EXPECT_EQ(ok->status, 200) << ok->body;
  EXPECT_EQ(server_->stats().attest_failed, 2u);
}

// libcurl honours http_proxy / no_proxy from the environment: a request for an unresolvable
// host reaches the proxy (a kbs-dev instance records nothing, so a raw listener stands in).
TEST(CurlProxyTest, HttpProxyFromEnvironmentIsUsed) {
  httplib::Server proxy;
  std::string seen_target;
  proxy.set_pre_routing_handler([&](const httplib::Request& req, httplib::Response& res) {
    seen_target = req.target;
    res.status = 204;
    return httplib::Server::HandlerResponse::Handled;
  });
  int port = proxy.bind_to_any_port("127.0.0.1");
  std::thread t([&] { proxy.listen_after_bind(); });
  ::setenv("http_proxy", StrCat("http://127.0.0.1:", port).c_str(), 1);
  auto http = std::move(http::CurlHttpClient::New({})).value();
  auto r = http->Send({"GET", "http://kbs.invalid:8080/kbs/v0/resource/a/b/c", {}, ""}, absl::Now() + absl::Seconds(5));
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->status, 204);
  EXPECT_EQ(seen_target, "http://kbs.invalid:8080/kbs/v0/resource/a/b/c");
  ::setenv("no_proxy", "kbs.invalid", 1);
  auto direct = http->Send({"GET", "http://kbs.invalid:8080/x", {}, ""}, absl::Now() + absl::Seconds(5));
  EXPECT_THAT(direct, StatusIs(absl::StatusCode::kUnavailable));  // not via the proxy: DNS fails
  ::unsetenv("http_proxy");
  ::unsetenv("no_proxy");
  proxy.stop();
  t.join();
}

}  // namespace
}  // namespace cdh::kbsdev

namespace cdh::kbsdev {
namespace {

// HTTPS to the broker with a private CA. Certificates are made by the openssl CLI.
class KbsDevTlsTest : public KbsDevTest {
 protected:
  void SetUp() override {
    dir_ = TempDir("res");
    pki_ = TempDir("pki");
    std::string script = StrCat(
        "set -e; cd '", pki_, "'; ",
        "gen() { openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout $1.key -out $1.csr "
        "-subj /CN=$1 2>/dev/null; }; ",
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.crt -days 2 "
        "-subj /CN=test-ca 2>/dev/null; ",
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout other.key -out other.crt "
        "-days 2 -subj /CN=other-ca 2>/dev/null; ",
        "gen leaf; printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kbs.test\\n' > san.ext; ",
        "openssl x509 -req -in leaf.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out leaf.crt -days 2 "
        "-extfile san.ext 2>/dev/null; ",
        "gen wrong; printf 'subjectAltName=DNS:kbs.example.com\\n' > wrong.ext; ",
        "openssl x509 -req -in wrong.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out wrong.crt -days 2 "
        "-extfile wrong.ext 2>/dev/null; ",
        "cat leaf.crt ca.crt > chain.crt");
    ASSERT_EQ(std::system(script.c_str()), 0);
  }
  void TearDown() override {
    KbsDevTest::TearDown();
    std::filesystem::remove_all(pki_);
  }
  void StartTls(const std::string& leaf) {
    KbsDevOptions o;
    o.tls_cert_file = StrCat(pki_, "/", leaf, ".crt");
    o.tls_key_file = StrCat(pki_, "/", leaf, ".key");
    StartServer(o);
  }
  std::string Pem(const std::string& name) { return *ReadFileBounded(StrCat(pki_, "/", name), 1 << 20); }
  absl::StatusOr<SecretBytes> GetWith(const std::string& ca_pem) {
    kbs::KbsConnectionConfig conn{server_->url(), ca_pem};
    auto client = kbs::NewCurlKbsClient(conn, {}, std::make_unique<attestation::SampleAttester>());
    if (!client.ok()) return client.status();
    return (*client)->GetResource("resource", "default/key/1", std::nullopt,
                                  CallContext::WithTimeout(absl::Seconds(10)));
  }
  void Put2() {
    ASSERT_TRUE(WriteFileAtomic(StrCat(dir_, "/repository/default\\x2Fkey\\x2F1"), "tls secret", 0600).ok());
  }
  std::string pki_;
};

TEST_F(KbsDevTlsTest, PrivateCaTrustAnchorForThisConnection) {
  StartTls("leaf");
  ASSERT_THAT(std::string(server_->url()), ::testing::HasSubstr("https://"));
  Put2();
  auto ca = GetWith(Pem("ca.crt"));
  ASSERT_THAT(ca, IsOk());
  EXPECT_EQ(ca->RevealString(), "tls secret");
  EXPECT_TRUE(GetWith(Pem("chain.crt")).ok());  // a two-certificate bundle
  auto leaf_only = GetWith(Pem("leaf.crt"));    // the server's own certificate as the anchor
  EXPECT_THAT(leaf_only, IsOk());
  auto other = GetWith(Pem("other.crt"));
  EXPECT_THAT(other, StatusIs(absl::StatusCode::kFailedPrecondition)) << other.status();
  // Without kbs_cert the system store is used, which does not know the private CA.
  EXPECT_THAT(GetWith(""), StatusIs(absl::StatusCode::kFailedPrecondition));
}

// A minimal HTTP CONNECT proxy on 127.0.0.1: tunnels to 127.0.0.1:<port of the CONNECT target>
// whatever the host name, and records the CONNECT lines it saw.
class ConnectProxy {
 public:
  ConnectProxy() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    socklen_t len = sizeof(addr);
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    ::listen(listen_fd_, 8);
    thread_ = std::thread([this] { Serve(); });
  }
  ~ConnectProxy() {
    ::shutdown(listen_fd_, SHUT_RDWR);
    ::close(listen_fd_);
    thread_.join();
  }
  int port() const { return port_; }
  std::vector<std::string> connects() {
    absl::MutexLock lock(&mu_);
    return connects_;
  }

 private:
  void Serve() {
    while (true) {
      int client = ::accept(listen_fd_, nullptr, nullptr);
      if (client < 0) return;
      std::string head;
      char c;
      while (head.find("\r\n\r\n") == std::string::npos && ::read(client, &c, 1) == 1) head.push_back(c);
      std::string line = head.substr(0, head.find("\r\n"));
      {
        absl::MutexLock lock(&mu_);
        connects_.push_back(line);
      }
      int port = std::atoi(line.substr(line.rfind(':') + 1).c_str());
      int upstream = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      addr.sin_port = htons(static_cast<uint16_t>(port));
      if (!line.starts_with("CONNECT ") || ::connect(upstream, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
        ::write(client, "HTTP/1.1 502 Bad Gateway\r\n\r\n", 28);
      } else {
        const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
        ::write(client, ok, sizeof(ok) - 1);
        Pump(client, upstream);
      }
      ::close(upstream);
      ::close(client);
    }
  }
  static void Pump(int a, int b) {
    pollfd fds[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
    char buf[16384];
    while (::poll(fds, 2, 5000) > 0) {
      for (int i = 0; i < 2; ++i) {
        if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
          ssize_t n = ::read(fds[i].fd, buf, sizeof(buf));
          if (n <= 0 || ::write(fds[1 - i].fd, buf, static_cast<size_t>(n)) != n) return;
        }
      }
    }
  }
  int listen_fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  absl::Mutex mu_;
  std::vector<std::string> connects_;
};

// HTTPS_PROXY from the environment is honoured: the TLS session to the broker goes through the
// proxy's CONNECT tunnel (and is still verified against kbs_cert end to end).
TEST_F(KbsDevTlsTest, HttpsProxyFromEnvironmentTunnelsTheBrokerConnection) {
  StartTls("leaf");
  Put2();
  ConnectProxy proxy;
  ::setenv("HTTPS_PROXY", StrCat("http://127.0.0.1:", proxy.port()).c_str(), 1);
  kbs::KbsConnectionConfig conn{StrCat("https://kbs.test:", server_->port()), Pem("ca.crt")};
  auto client = kbs::NewCurlKbsClient(conn, {}, std::make_unique<attestation::SampleAttester>());
  ASSERT_THAT(client, IsOk());
  auto r =
      (*client)->GetResource("resource", "default/key/1", std::nullopt, CallContext::WithTimeout(absl::Seconds(10)));
  ::unsetenv("HTTPS_PROXY");
  ASSERT_THAT(r, IsOk());  // kbs.test resolves nowhere: only the proxy could reach it
  EXPECT_EQ(r->RevealString(), "tls secret");
  ASSERT_FALSE(proxy.connects().empty());
  EXPECT_EQ(proxy.connects()[0], StrCat("CONNECT kbs.test:", server_->port(), " HTTP/1.1"));
}

TEST_F(KbsDevTlsTest, HostNameIsVerified) {
  StartTls("wrong");  // SAN kbs.example.com, reached as 127.0.0.1
  Put2();
  auto r = GetWith(Pem("ca.crt"));
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kFailedPrecondition)) << r.status();
}

TEST_F(KbsDevTlsTest, InconsistentConfigurationRejectedAtStartup) {
  kbs::KbsConnectionConfig http_with_cert{"http://127.0.0.1:1", Pem("ca.crt")};
  auto c = kbs::NewCurlKbsClient(http_with_cert, {}, std::make_unique<attestation::SampleAttester>());
  EXPECT_THAT(c, StatusIs(absl::StatusCode::kInvalidArgument));
  kbs::KbsConnectionConfig junk{"https://127.0.0.1:1",
                                "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"};
  EXPECT_THAT(kbs::NewCurlKbsClient(junk, {}, std::make_unique<attestation::SampleAttester>()),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace cdh::kbsdev
