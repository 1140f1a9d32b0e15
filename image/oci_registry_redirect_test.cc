// Redirects and Bearer challenges of OciRegistryClient, scripted with FakeHttpClient: Debian's
// docker-registry with filesystem storage never redirects blob requests (S3/CDN back-ends do),
// so a scripted HTTP exchange stands in for the storage back-end here.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"
#include "http/fake_http_client.h"
#include "image/oci_registry_client.h"

namespace cdh::image {
namespace {

using ::cdh::testing::StatusIs;

http::HttpResponse Response(int status, std::vector<std::pair<std::string, std::string>> headers,
                            std::string body = "") {
  http::HttpResponse r;
  r.status = status;
  r.headers = std::move(headers);
  r.body = std::move(body);
  return r;
}

// Credentials travel only as secret headers (http/http_client.h SecretHeader).
std::optional<std::string> Authorization(const http::HttpRequest& r) {
  for (const auto& [k, v] : r.headers) EXPECT_NE(k, "Authorization") << "a credential in a plain header";
  const SecretBytes* v = r.SecretHeaderValue("Authorization");
  if (v == nullptr) return std::nullopt;
  return std::string(v->RevealString());
}

TEST(OciRegistryRedirectTest, BearerTokenThenCrossHostRedirectWithoutCredentials) {
  http::FakeHttpClient http;
  const std::string blob = "layer bytes";
  const Digest digest = Digest::Sha256Of(std::string_view(blob));
  http.Answer(Response(401, {{"www-authenticate", R"(Bearer realm="https://auth.example/token",service="reg")"}}));
  http.Answer(Response(200, {}, R"({"token":"tok-123"})"));
  http.Answer(Response(307, {{"location", "https://cdn.example/blobs/x?sig=abc"}}));
  http.Answer(Response(200, {}, blob));
  OciRegistryClientOptions options;
  options.registry = "reg.example";
  options.credentials = RegistryCredentials{"alice", SecretBytes::FromString("s3cret")};
  auto client = OciRegistryClient::New(http, std::move(options));
  ASSERT_TRUE(client.ok());
  auto ref = *ImageReference::Parse("reg.example/team/app:v1");
  auto got = (*client)->GetBlob(ref, digest, 1 << 20, CallContext{});
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, blob);

  auto requests = http.requests();
  ASSERT_EQ(requests.size(), 4u);  // blob (401), token, blob (307), storage back-end
  EXPECT_EQ(requests[0].url, "https://reg.example/v2/team/app/blobs/" + digest.String());
  EXPECT_FALSE(Authorization(requests[0]).has_value());
  EXPECT_EQ(requests[1].url, "https://auth.example/token?scope=repository:team/app:pull&service=reg");
  EXPECT_EQ(Authorization(requests[1]).value_or(""), "Basic YWxpY2U6czNjcmV0");
  EXPECT_EQ(Authorization(requests[2]).value_or(""), "Bearer tok-123");
  EXPECT_EQ(requests[3].url, "https://cdn.example/blobs/x?sig=abc");
  EXPECT_FALSE(Authorization(requests[3]).has_value()) << "credentials must not follow a redirect to another host";
}

TEST(OciRegistryRedirectTest, RedirectLoopsAndBadDigestsFail) {
  http::FakeHttpClient http;
  http.Answer(Response(302, {{"location", "/v2/app/blobs/elsewhere"}}));  // repeats forever
  auto client = OciRegistryClient::New(http, {"reg.example", false, std::nullopt});
  auto ref = *ImageReference::Parse("reg.example/app:v1");
  auto loop = (*client)->GetBlob(ref, Digest::Sha256Of(std::string_view("x")), 100, CallContext{});
  EXPECT_THAT(loop.status(), StatusIs(absl::StatusCode::kUnavailable)) << loop.status();

  http::FakeHttpClient http2;
  http2.Answer(Response(200, {}, "tampered"));
  auto client2 = OciRegistryClient::New(http2, {"reg.example", false, std::nullopt});
  auto bad = (*client2)->GetBlob(ref, Digest::Sha256Of(std::string_view("original")), 100, CallContext{});
  EXPECT_THAT(bad.status(), StatusIs(absl::StatusCode::kDataLoss));
  // A manifest whose Docker-Content-Digest disagrees with its body.
  http::FakeHttpClient http3;
  http3.Answer(Response(200, {{"docker-content-digest", Digest::Sha256Of(std::string_view("{}")).String()}},
                        R"({"schemaVersion":2})"));
  auto client3 = OciRegistryClient::New(http3, {"reg.example", false, std::nullopt});
  EXPECT_THAT((*client3)->GetManifest(ref, "v1", CallContext{}).status(), StatusIs(absl::StatusCode::kDataLoss));
}

// Every exchange of a pull carries the caller's cancellation — the registry, its token
// endpoint and a redirect's storage back-end alike — so a departed caller's download stops
// (http/http_client.h: CANCELLED) instead of running to its deadline.
TEST(OciRegistryRedirectTest, EveryExchangeCarriesTheCallersCancellation) {
  http::FakeHttpClient http;
  const std::string blob = "layer bytes";
  const Digest digest = Digest::Sha256Of(std::string_view(blob));
  http.Answer(Response(401, {{"www-authenticate", R"(Bearer realm="https://auth.example/token",service="reg")"}}));
  http.Answer(Response(200, {}, R"({"token":"tok-123"})"));
  http.Answer(Response(307, {{"location", "https://cdn.example/blobs/x?sig=abc"}}));
  http.Answer(Response(200, {}, blob));
  auto client = OciRegistryClient::New(http, {"reg.example", false, std::nullopt});
  ASSERT_TRUE(client.ok());
  auto departure = std::make_shared<Cancellation>();
  auto got = (*client)->GetBlob(*ImageReference::Parse("reg.example/team/app:v1"), digest, 1 << 20,
                                CallContext{absl::InfiniteFuture(), departure});
  ASSERT_TRUE(got.ok()) << got.status();
  auto requests = http.requests();
  ASSERT_EQ(requests.size(), 4u);
  for (const auto& r : requests) EXPECT_EQ(r.cancellation, departure) << r.url;
}

}  // namespace
}  // namespace cdh::image
