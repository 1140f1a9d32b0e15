// The known answer comes from tests/image/ocicrypt_encrypt.py (`kat`), an encryptor written in
// Python with python3-cryptography from the format in containers/ocicrypt, independent of this
// code. The broker is FakeResourceProvider holding the KEK (a broker cannot run in a unit test;
// the end-to-end tests use kbs-dev).
#include "image/ocicrypt/ocicrypt_layer_decryptor.h"

#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/escaping.h"
#include "common/base64.h"
#include "common/json.h"
#include "common/testing/status_matchers.h"
#include "resources/fake_resource_provider.h"
#include "resources/kms/kbs_kms.h"

namespace cdh::image {
namespace {

using ::cdh::testing::StatusIs;
using ::testing::HasSubstr;

// The `kbs` KMS provider over `kbs`, as the daemon's composition root registers it.
resources::KmsRegistry KbsOnlyRegistry(resources::ResourceProvider& kbs) {
  resources::KmsRegistry registry;
  registry.Register("kbs", [&kbs](const nlohmann::json&) -> absl::StatusOr<std::unique_ptr<resources::KmsDecryptor>> {
    return std::make_unique<resources::KbsKms>(kbs);
  });
  return registry;
}

using nlohmann::json;

struct Kat {
  std::string kek;
  std::map<std::string, std::string> annotations;
  std::string ciphertext;
  std::string plaintext;
  std::string digest;
};

Kat LoadKat() {
  std::ifstream in(CDH_OCICRYPT_KAT);
  std::stringstream ss;
  ss << in.rdbuf();
  json j = *ParseJson(ss.str(), "kat");
  Kat k;
  k.kek = absl::HexStringToBytes(j["kek_hex"].get<std::string>());
  for (const auto& [name, value] : j["annotations"].items()) k.annotations[name] = value.get<std::string>();
  k.ciphertext = *Base64StdDecode(j["ciphertext_b64"].get<std::string>());
  k.plaintext = *Base64StdDecode(j["plaintext_b64"].get<std::string>());
  k.digest = j["ciphertext_digest"].get<std::string>();
  return k;
}

std::span<const uint8_t> U8(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

class OcicryptTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kat_ = LoadKat();
    ASSERT_EQ(kat_.kek.size(), 32u);
    kbs_.Put("default/image-kek/1", kat_.kek);
    layer_.media_type = "application/vnd.oci.image.layer.v1.tar+gzip+encrypted";
    layer_.digest = *Digest::Parse(kat_.digest);
    layer_.size = static_cast<int64_t>(kat_.ciphertext.size());
    layer_.annotations = kat_.annotations;
  }

  // Streams `ciphertext` in `chunk`-byte pieces; returns Finish()'s status and the plaintext.
  absl::Status Decrypt(const Descriptor& layer, const std::string& ciphertext, size_t chunk, std::string& plain) {
    auto stream = decryptor_.Open(layer, CallContext{});
    if (!stream.ok()) return stream.status();
    for (size_t off = 0; off < ciphertext.size(); off += chunk) {
      absl::Status s = (*stream)->Update(U8(ciphertext).subspan(off, std::min(chunk, ciphertext.size() - off)), plain);
      if (!s.ok()) return s;
    }
    return (*stream)->Finish();
  }

  Kat kat_;
  resources::FakeResourceProvider kbs_;
  resources::KmsRegistry kms_ = KbsOnlyRegistry(kbs_);
  resources::KeyUnwrapper unwrapper_{kms_};
  OcicryptLayerDecryptor decryptor_{unwrapper_};
  Descriptor layer_;
};

TEST_F(OcicryptTest, KnownAnswerInAnyChunking) {
  for (size_t chunk : {1ul, 7ul, 16ul, 100ul, 1ul << 20}) {
    std::string plain;
    ASSERT_TRUE(Decrypt(layer_, kat_.ciphertext, chunk, plain).ok()) << chunk;
    EXPECT_EQ(plain, kat_.plaintext) << chunk;
  }
  EXPECT_EQ(kbs_.calls(), 5);  // the key is released on every Open: no cache bypasses the broker
}

TEST_F(OcicryptTest, MediaTypes) {
  EXPECT_TRUE(decryptor_.IsEncrypted(layer_));
  Descriptor plain = layer_;
  plain.media_type = "application/vnd.oci.image.layer.v1.tar+gzip";
  EXPECT_FALSE(decryptor_.IsEncrypted(plain));
  EXPECT_EQ(DecryptedMediaType("application/vnd.oci.image.layer.v1.tar+zstd+encrypted"),
            "application/vnd.oci.image.layer.v1.tar+zstd");
  EXPECT_THAT(decryptor_.Open(plain, CallContext{}).status(), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(OcicryptTest, CiphertextBitFlipsAreDataLossAtFinish) {
  for (size_t pos : {0ul, 100ul, kat_.ciphertext.size() - 1}) {
    std::string tampered = kat_.ciphertext;
    tampered[pos] ^= 0x01;
    std::string plain;
    absl::Status s = Decrypt(layer_, tampered, 64, plain);
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kDataLoss)) << pos << " " << s;
    EXPECT_THAT(std::string(s.message()), HasSubstr("HMAC")) << s;
  }
}

TEST_F(OcicryptTest, TruncationAndExtensionAreDataLoss) {
  std::string plain;
  EXPECT_THAT(Decrypt(layer_, kat_.ciphertext.substr(0, kat_.ciphertext.size() - 1), 64, plain),
              StatusIs(absl::StatusCode::kDataLoss));
  plain.clear();
  EXPECT_THAT(Decrypt(layer_, kat_.ciphertext.substr(0, 16), 64, plain), StatusIs(absl::StatusCode::kDataLoss));
  plain.clear();
  EXPECT_THAT(Decrypt(layer_, "", 64, plain), StatusIs(absl::StatusCode::kDataLoss));
  plain.clear();
  EXPECT_THAT(Decrypt(layer_, kat_.ciphertext + "x", 64, plain), StatusIs(absl::StatusCode::kDataLoss));
}

// Re-encodes pubopts with `hmac` replaced.
std::string PubOptsWithHmac(const std::string& pubopts_b64, const std::string& hmac) {
  json p = *ParseJson(*Base64StdDecode(pubopts_b64), "pubopts");
  p["hmac"] = Base64StdEncode(hmac);
  return Base64StdEncode(p.dump());
}

TEST_F(OcicryptTest, HmacFlipsInPubOptsAreDataLoss) {
  const std::string pubopts = layer_.annotations[std::string(kEncPubOptsAnnotation)];
  std::string mac = *Base64StdDecode(*GetString(*ParseJson(*Base64StdDecode(pubopts), "p"), "hmac", "p"));
  for (size_t i : {0ul, 15ul, 31ul}) {
    std::string flipped = mac;
    flipped[i] ^= 0x80;
    Descriptor layer = layer_;
    layer.annotations[std::string(kEncPubOptsAnnotation)] = PubOptsWithHmac(pubopts, flipped);
    std::string plain;
    EXPECT_THAT(Decrypt(layer, kat_.ciphertext, 64, plain), StatusIs(absl::StatusCode::kDataLoss)) << i;
  }
}

TEST_F(OcicryptTest, WrongKekIsPermissionDenied) {
  std::string wrong = kat_.kek;
  wrong[0] ^= 1;
  kbs_.Put("default/image-kek/1", wrong);
  std::string plain;
  EXPECT_THAT(Decrypt(layer_, kat_.ciphertext, 64, plain), StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST_F(OcicryptTest, BrokerErrorsKeepTheirCode) {
  kbs_.FailWith(absl::UnavailableError("broker down"));
  EXPECT_THAT(decryptor_.Open(layer_, CallContext{}).status(), StatusIs(absl::StatusCode::kUnavailable));
  kbs_.FailWith(absl::OkStatus());
  resources::FakeResourceProvider empty;
  resources::KmsRegistry kms = KbsOnlyRegistry(empty);
  resources::KeyUnwrapper unwrapper(kms);
  OcicryptLayerDecryptor decryptor(unwrapper);
  EXPECT_THAT(decryptor.Open(layer_, CallContext{}).status(), StatusIs(absl::StatusCode::kNotFound));
}

// The caller's CallContext reaches the broker: a departed caller's layer key is not fetched.
TEST_F(OcicryptTest, DepartedCallerIsCancelled) {
  auto departed = std::make_shared<Cancellation>();
  departed->Cancel();
  EXPECT_THAT(decryptor_.Open(layer_, CallContext{absl::InfiniteFuture(), departed}).status(),
              StatusIs(absl::StatusCode::kCancelled));
}

TEST_F(OcicryptTest, MalformedAnnotations) {
  struct Case {
    std::string name;
    std::function<void(Descriptor&)> mutate;
    absl::StatusCode code;
  };
  const std::string provider(kCocoKeyProviderAnnotation);
  const std::string pubopts(kEncPubOptsAnnotation);
  const Case cases[] = {
      {"no pubopts", [&](Descriptor& d) { d.annotations.erase(pubopts); }, absl::StatusCode::kInvalidArgument},
      {"pubopts not base64", [&](Descriptor& d) { d.annotations[pubopts] = "%%"; }, absl::StatusCode::kInvalidArgument},
      {"pubopts not json", [&](Descriptor& d) { d.annotations[pubopts] = Base64StdEncode("nope"); },
       absl::StatusCode::kInvalidArgument},
      {"other cipher",
       [&](Descriptor& d) { d.annotations[pubopts] = Base64StdEncode(R"({"cipher":"AES_128_GCM","hmac":""})"); },
       absl::StatusCode::kUnimplemented},
      {"short hmac",
       [&](Descriptor& d) {
         d.annotations[pubopts] = Base64StdEncode(R"({"cipher":"AES_256_CTR_HMAC_SHA256","hmac":"AAAA"})");
       },
       absl::StatusCode::kInvalidArgument},
      {"no recipient", [&](Descriptor& d) { d.annotations.erase(provider); }, absl::StatusCode::kInvalidArgument},
      {"jwe only",
       [&](Descriptor& d) {
         d.annotations.erase(provider);
         d.annotations["org.opencontainers.image.enc.keys.jwe"] = "e30=";
       },
       absl::StatusCode::kUnimplemented},
      {"packet not base64", [&](Descriptor& d) { d.annotations[provider] = "!!"; }, absl::StatusCode::kInvalidArgument},
      {"packet not json", [&](Descriptor& d) { d.annotations[provider] = Base64StdEncode("{"); },
       absl::StatusCode::kInvalidArgument},
  };
  for (const Case& c : cases) {
    Descriptor layer = layer_;
    c.mutate(layer);
    EXPECT_THAT(decryptor_.Open(layer, CallContext{}).status(), StatusIs(c.code)) << c.name;
  }
}

TEST_F(OcicryptTest, AnotherProviderNameAndASecondRecipientWork) {
  // Upstream sends any provider annotation to the configured provider; several recipients are a
  // comma-separated list, tried in turn.
  Descriptor layer = layer_;
  std::string packet = layer.annotations[std::string(kCocoKeyProviderAnnotation)];
  layer.annotations.erase(std::string(kCocoKeyProviderAnnotation));
  layer.annotations["org.opencontainers.image.enc.keys.provider.other"] = Base64StdEncode("{}") + "," + packet;
  std::string plain;
  ASSERT_TRUE(Decrypt(layer, kat_.ciphertext, 1000, plain).ok());
  EXPECT_EQ(plain, kat_.plaintext);
}

TEST_F(OcicryptTest, UpdateAfterFinishIsRefused) {
  auto stream = decryptor_.Open(layer_, CallContext{});
  ASSERT_TRUE(stream.ok());
  std::string plain;
  ASSERT_TRUE((*stream)->Update(U8(kat_.ciphertext), plain).ok());
  ASSERT_TRUE((*stream)->Finish().ok());
  EXPECT_THAT((*stream)->Update(U8("x"), plain), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT((*stream)->Finish(), StatusIs(absl::StatusCode::kFailedPrecondition));
}

}  // namespace
}  // namespace cdh::image
