#include "crypto/wrapped_data.h"

#include <string>

#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"
#include "crypto/aes.h"

namespace cdh::crypto {
namespace {

using ::cdh::testing::StatusIs;

const SecretBytes& Key() {
  static const SecretBytes* key = new SecretBytes(SecretBytes::FromString(std::string(32, 'k')));
  return *key;
}

std::string GcmBlob(std::string_view iv, std::string_view plaintext) {
  absl::StatusOr<GcmCiphertext> ct = Aes256GcmEncrypt(Key(), iv, plaintext, "");
  return ct->ciphertext + ct->tag;
}

TEST(WrapTypeTest, OnlyTheTwoUpperCaseNames) {
  EXPECT_EQ(*ParseWrapType("A256GCM"), WrapType::kA256Gcm);
  EXPECT_EQ(*ParseWrapType("A256CTR"), WrapType::kA256Ctr);
  for (const char* bad : {"a256gcm", "A128GCM", "A256KW", "", "A256GCM "}) {
    absl::StatusOr<WrapType> t = ParseWrapType(bad);
    EXPECT_THAT(t, StatusIs(absl::StatusCode::kInvalidArgument, "wrap_type")) << bad;
  }
}

TEST(OpenWrappedDataTest, OpensBothWrapTypes) {
  std::string iv12(12, 'i');
  absl::StatusOr<SecretBytes> gcm = OpenWrappedData(WrapType::kA256Gcm, Key(), iv12, GcmBlob(iv12, "layer key"), "x");
  ASSERT_TRUE(gcm.ok()) << gcm.status();
  EXPECT_EQ(gcm->RevealString(), "layer key");
  std::string iv16(16, 'c');
  absl::StatusOr<SecretBytes> ct = Aes256CtrCrypt(Key(), iv16, "counter");
  absl::StatusOr<SecretBytes> ctr = OpenWrappedData(WrapType::kA256Ctr, Key(), iv16, ct->RevealString(), "x");
  ASSERT_TRUE(ctr.ok()) << ctr.status();
  EXPECT_EQ(ctr->RevealString(), "counter");
}

TEST(OpenWrappedDataTest, NegativeTable) {
  std::string iv12(12, 'i');
  std::string blob = GcmBlob(iv12, "secret");
  std::string flipped = blob;
  flipped[0] ^= 1;
  std::string tag_flipped = blob;
  tag_flipped.back() ^= 0x80;
  struct Case {
    const char* name;
    WrapType type;
    std::string iv;
    std::string blob;
    absl::StatusCode code;
    const char* part;
  };
  const Case cases[] = {
      {"GCM IV of 16", WrapType::kA256Gcm, std::string(16, 'i'), blob, absl::StatusCode::kInvalidArgument, "12 bytes"},
      {"GCM IV of 0", WrapType::kA256Gcm, "", blob, absl::StatusCode::kInvalidArgument, "12 bytes"},
      {"CTR IV of 12", WrapType::kA256Ctr, iv12, blob, absl::StatusCode::kInvalidArgument, "16 bytes"},
      {"shorter than the tag", WrapType::kA256Gcm, iv12, blob.substr(0, 15), absl::StatusCode::kInvalidArgument, "tag"},
      {"truncated by one", WrapType::kA256Gcm, iv12, blob.substr(0, blob.size() - 1),
       absl::StatusCode::kPermissionDenied, "authentication"},
      {"ciphertext bit flip", WrapType::kA256Gcm, iv12, flipped, absl::StatusCode::kPermissionDenied, "authentication"},
      {"tag bit flip", WrapType::kA256Gcm, iv12, tag_flipped, absl::StatusCode::kPermissionDenied, "authentication"},
      {"other IV", WrapType::kA256Gcm, std::string(12, 'j'), blob, absl::StatusCode::kPermissionDenied,
       "authentication"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<SecretBytes> r = OpenWrappedData(c.type, Key(), c.iv, c.blob, "wrapped thing");
    EXPECT_THAT(r,
                StatusIs(c.code, ::testing::AllOf(::testing::HasSubstr(c.part), ::testing::HasSubstr("wrapped thing"))))
        << c.name;
  }
}

}  // namespace
}  // namespace cdh::crypto
