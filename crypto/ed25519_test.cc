// The admin-token known-answer vector of kbs-protocol.md §8.1.
#include "crypto/ed25519.h"

#include "common/base64.h"
#include "common/strings.h"
#include "common/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace cdh::crypto {
namespace {

using ::cdh::testing::IsOk;
using ::cdh::testing::StatusIs;

constexpr char kPem[] =
    "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA6aEJ0l2VkvgzDIirJsj2LgXCEEaxETmBbTK5Ka5c0v8=\n-----END PUBLIC "
    "KEY-----\n";
constexpr char kToken[] =
    "eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCJ9."
    "eyJpc3MiOiJUcnVzdGVlSW5Eb2NrZXIiLCJzdWIiOiJhZG1pbiIsImF1ZCI6WyJLQlMiXSwicm9sZSI6ImFkbWluIiwiaWF0IjoxNzY3MjI1NjAwLC"
    "JleHAiOjIwODI3NTg0MDB9.lvYOOGfpJKiVyN2EiBPJ2NLHWFq129b1tro99hI6hQYZw4dLIGsfozT3LAEgotAJtB8Pd0bk0-8tplgmR0dJDA";

TEST(Ed25519Test, SpecAdminTokenVerifies) {
  std::vector<std::string_view> parts = StrSplit(kToken, '.');
  ASSERT_EQ(parts.size(), 3u);
  auto sig = Base64UrlDecode(parts[2]);
  ASSERT_THAT(sig, IsOk());
  std::string signing_input = StrCat(parts[0], ".", parts[1]);
  EXPECT_TRUE(VerifyEd25519(kPem, signing_input, *sig).ok());

  std::string bad = *sig;
  bad[10] ^= 0x20;
  EXPECT_THAT(VerifyEd25519(kPem, signing_input, bad), StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(VerifyEd25519(kPem, signing_input + "x", *sig), StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(VerifyEd25519(kPem, signing_input, sig->substr(1)), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(VerifyEd25519("not a pem", signing_input, *sig), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace cdh::crypto
