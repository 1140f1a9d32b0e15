#include "http/cookie_jar.h"

#include "gtest/gtest.h"

namespace cdh::http {
namespace {

HttpResponse WithCookies(std::vector<std::string> lines) {
  HttpResponse r;
  r.status = 200;
  for (auto& l : lines) r.headers.emplace_back("set-cookie", l);
  r.headers.emplace_back("content-type", "application/json");
  return r;
}

// A load balancer's affinity cookie next to Trustee's session cookie: both go back.
TEST(CookieJarTest, KeepsEveryCookieTheServerSets) {
  CookieJar jar;
  auto r = WithCookies(
      {"kbs-session-id=c0ffee; Expires=Sun, 29 Nov 2026 10:00:00 GMT", "LB_AFFINITY=node-3; Path=/; HttpOnly; Secure"});
  jar.Update(r, "/kbs/v0/auth");
  EXPECT_EQ(jar.size(), 2u);
  EXPECT_TRUE(jar.Has("kbs-session-id"));
  // Default path /kbs/v0 (longer) first, then /.
  EXPECT_EQ(jar.HeaderFor("/kbs/v0/attest").RevealString(), "kbs-session-id=c0ffee; LB_AFFINITY=node-3");
  EXPECT_EQ(jar.HeaderFor("/kbs/v0/resource/default/key/1").RevealString(),
            "kbs-session-id=c0ffee; LB_AFFINITY=node-3");
  EXPECT_EQ(jar.HeaderFor("/other").RevealString(), "LB_AFFINITY=node-3");
  // The response's copies are wiped once taken; other headers are untouched.
  EXPECT_EQ(r.headers[0].second, "");
  EXPECT_EQ(r.headers[2].second, "application/json");
}

TEST(CookieJarTest, LaterCookieReplacesAndMaxAgeZeroDeletes) {
  CookieJar jar;
  auto a = WithCookies({"a=1", "b=2"});
  jar.Update(a, "/kbs/v0/auth");
  auto b = WithCookies({"a=3", "b=; Max-Age=0"});
  jar.Update(b, "/kbs/v0/attest");
  EXPECT_EQ(jar.HeaderFor("/kbs/v0/x").RevealString(), "a=3");
}

TEST(CookieJarTest, IgnoresMalformedLines) {
  CookieJar jar;
  auto r = WithCookies({"novalue", "=empty-name", "  ", "ok = v ; path=relative"});
  jar.Update(r, "/kbs/v0/auth");
  EXPECT_EQ(jar.size(), 1u);
  EXPECT_EQ(jar.HeaderFor("/kbs/v0/auth").RevealString(), "ok=v");  // relative Path: the default path
  EXPECT_EQ(jar.HeaderFor("/kbs").RevealString(), "");
}

TEST(CookieJarTest, PathMatchingFollowsRfc6265) {
  EXPECT_TRUE(CookiePathMatches("/kbs/v0", "/kbs/v0"));
  EXPECT_TRUE(CookiePathMatches("/kbs/v0/auth", "/kbs/v0"));
  EXPECT_TRUE(CookiePathMatches("/kbs/v0/auth", "/kbs/"));
  EXPECT_FALSE(CookiePathMatches("/kbs/v01", "/kbs/v0"));
  EXPECT_FALSE(CookiePathMatches("/kb", "/kbs"));
}

// A cookie whose name or value holds a control character (here a CR, as a fuzzer found) could
// not go back in a Cookie header: it is ignored, and the session's other cookies still go back.
TEST(CookieJarTest, IgnoresCookiesWithControlCharacters) {
  CookieJar jar;
  auto r = WithCookies({std::string("kbs-session\rid=0123abcd; Path=/kbs/v0"), std::string("a=b\x01c"),
                        std::string("nul=a\0b", 7), "kbs-session-id=c0ffee", "tab=a\tb"});
  jar.Update(r, "/kbs/v0/auth");
  EXPECT_EQ(jar.size(), 2u);
  EXPECT_EQ(jar.HeaderFor("/kbs/v0/attest").RevealString(), "kbs-session-id=c0ffee; tab=a\tb");
}

}  // namespace
}  // namespace cdh::http
