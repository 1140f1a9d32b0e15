// Known-answer vectors made with the openssl CLI (`openssl dgst -sha256|-sha384 -sign`,
// `openssl pkeyutl -sign -rawin` for Ed25519), independent of the code under test.
#include "crypto/signature_public_key.h"

#include <gtest/gtest.h>

#include "absl/strings/escaping.h"
#include "common/testing/status_matchers.h"

namespace cdh::crypto {
namespace {

using ::cdh::testing::IsOk;
using ::cdh::testing::StatusIs;

constexpr char kMessage[] = "cosign payload {\"critical\":{}}";

constexpr char kP256Pem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEbed4EjViTjNSIg8ED8Stg0qdMbQ+\n"
    "+8z/A3d4Rg+ltUue2yL5dcprT0SUtYq6bcnGXGaOkQ6fJo9fnZgzJLBqSA==\n"
    "-----END PUBLIC KEY-----\n";
constexpr char kP256SigHex[] =
    "30460221009ad77a65552d46541645aac77d3b40e55c837ad59e27fccc9c7d6250cd2ad1980221008ce6bf737a61bd2e51c6364835d49b97a4"
    "0ad4f13f1a8ea25b086cf83bbdce99";
constexpr char kP384Pem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEaNaxsW+9pm8rs640/2Bkuscn+5oE0N3P\n"
    "Yn9W2xAJsDpWBCXE+7QtincrRPdJFpsdk0B2FGcere9GPltwDjANzOezlklCQehf\n"
    "TjNBosIeXqf+wkut2gMvkWRn4SAGtDjM\n"
    "-----END PUBLIC KEY-----\n";
constexpr char kP384SigHex[] =
    "3066023100d17f1aeec496de392593256e0fa67f5c7abd4cd28facd60da2b3b1aee3c4caa9ddbb2d94d5404c8dedb8ee2eb0531649023100f0"
    "2d53546d2303f4d7a6ff7e327f553e4f8bf42cc24842d3f7787657923b9e2ddecad8cdedd5b49e0f37f92f560b86a4";
constexpr char kEd25519Pem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MCowBQYDK2VwAyEAesKzWIZQPmjMp0FC4R15HKPWQADH2/DzLBlrCmYLg+4=\n"
    "-----END PUBLIC KEY-----\n";
constexpr char kEd25519SigHex[] =
    "4e55616419d39dd5a906d23e55736227d57ac99bfa2bd67f90352d1c62c5a409be8307ae2711f75713d2ac0ec45f5196791aaa5e9ee1a54bb2"
    "4e0d31c4df0003";
constexpr char kRsaPem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEArJRKyvQDwDtl2vLdOuQH\n"
    "ZZwo7BDrdm0qcAliMdCQuF9BYz4qYGvSzPHJ7fSrdh9KjSbJJRgJXcXY0QFK1zv/\n"
    "oEr+ycml2i6eSSIvlzOfeMINNaNTFiChEbo8GR4yq2DmWTvwvr3drZDoPyimPt1B\n"
    "pAF6qGQeCB5BYWhNvAEfHA/YSnKbApcNp9AokYxkOdmf5s66SD0ENNg1jK+MIRbE\n"
    "/2Doutntd7ZxROc3D6QtADxbdb1tCAzKv4iVS5+G7piAxEZbyJUBFY3s4++kAc6b\n"
    "ibXR0PGPU3Fa5RWOPD7x4Zg3L52dovfSE+tU89DPLLrXY8xD3b3DqRqz81cLkmcR\n"
    "qwIDAQAB\n"
    "-----END PUBLIC KEY-----\n";
constexpr char kRsaSigHex[] =
    "3d751602ef45efc7b05110a74dde69c222d178c0d497bf1cf7ff5eecec99a24898b6b24b7cea971ca45f0917f58b987882db18cb8e1f835840"
    "babd9674e99c016ef29396d136590b7281aa10f61c10f8857a2deeca86b2d48012a77f78c10bf52e86ab1dcdd9a3bbaab1166b537cfdb49b81"
    "b2998c7d9cd343b52eba42cb5ec60064b25aa28f73f69f744d5fcab784a7ea6b7f7608c30a97b35d23288de526ef731312bf060dcc967a4347"
    "416f56868e36a86964bdb165f412589a6d1d525eddb09353f2312ed8c3fa3ae1d8ade104cee080a0e79a2afecdfacdffe0ab0908e90f2c4c82"
    "fafa278e18a5b7a9674b7977ed57874f4dde1f1a252f14d6eb8e0eaf";
constexpr char kP521Pem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIGbMBAGByqGSM49AgEGBSuBBAAjA4GGAAQBhDV9EF9qyM9HUQiJo55IHh2BQC4V\n"
    "Z0kU07KgxL7/jtJorCmdXcDFqPonhNdWIbYXmfDT3WriZ9hFQJN6oFxsGT0AMTW0\n"
    "UgRAnbOxcFrKt7EjRehKrgzble8uOwzMph+Fv6N5BZ8/SM17cLX5QE5Ojt4ApI4W\n"
    "CE7zM7726BuGl+rv8Lk=\n"
    "-----END PUBLIC KEY-----\n";
constexpr char kRsa1024Pem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC9pQrIwkM78Eh+DlFZoF4+V2ha\n"
    "EHbnua0j3WHQ+cfAAb7g0He1y/GWN/+hetmQSxwJJ1UqpjMhVKYFYmUguQoSlxtG\n"
    "NswCYri3gCfWkB4I1sTCtxWD+fP+Ouziipav8wkYJNRuRhCVEt+X8z52EweuaWgZ\n"
    "3GUP6qyTISyBgKt+6wIDAQAB\n"
    "-----END PUBLIC KEY-----\n";

std::string Bytes(const char* hex) { return absl::HexStringToBytes(hex); }

struct Vector {
  const char* name;
  const char* pem;
  const char* sig_hex;
  SignaturePublicKey::Algorithm algorithm;
};

const Vector kVectors[] = {
    {"p256", kP256Pem, kP256SigHex, SignaturePublicKey::Algorithm::kEcdsaP256Sha256},
    {"p384", kP384Pem, kP384SigHex, SignaturePublicKey::Algorithm::kEcdsaP384Sha384},
    {"ed25519", kEd25519Pem, kEd25519SigHex, SignaturePublicKey::Algorithm::kEd25519},
    {"rsa", kRsaPem, kRsaSigHex, SignaturePublicKey::Algorithm::kRsaPkcs1Sha256},
};

TEST(SignaturePublicKeyTest, VerifiesKnownAnswers) {
  for (const Vector& v : kVectors) {
    auto key = SignaturePublicKey::FromPem(v.pem);
    ASSERT_THAT(key, IsOk()) << v.name << ": " << key.status();
    EXPECT_EQ(key->algorithm(), v.algorithm) << v.name;
    EXPECT_TRUE(key->Verify(kMessage, Bytes(v.sig_hex)).ok()) << v.name;
  }
}

TEST(SignaturePublicKeyTest, BitFlipsInMessageOrSignatureAreDenied) {
  for (const Vector& v : kVectors) {
    auto key = SignaturePublicKey::FromPem(v.pem);
    ASSERT_THAT(key, IsOk());
    std::string msg = kMessage;
    std::string sig = Bytes(v.sig_hex);
    for (size_t i = 0; i < msg.size(); i += 7) {
      std::string m = msg;
      m[i] ^= 0x01;
      EXPECT_THAT(key->Verify(m, sig), StatusIs(absl::StatusCode::kPermissionDenied)) << v.name << " msg " << i;
    }
    for (size_t i = 0; i < sig.size(); i += 5) {
      std::string s = sig;
      s[i] ^= 0x10;
      EXPECT_THAT(key->Verify(msg, s), StatusIs(absl::StatusCode::kPermissionDenied)) << v.name << " sig " << i;
    }
    EXPECT_THAT(key->Verify(msg, sig.substr(0, sig.size() - 1)), StatusIs(absl::StatusCode::kPermissionDenied))
        << v.name;
    EXPECT_THAT(key->Verify(msg, sig + "x"), StatusIs(absl::StatusCode::kPermissionDenied)) << v.name;
    EXPECT_THAT(key->Verify(msg, ""), StatusIs(absl::StatusCode::kPermissionDenied)) << v.name;
  }
}

TEST(SignaturePublicKeyTest, WrongKeyIsDenied) {
  auto p256 = SignaturePublicKey::FromPem(kP256Pem);
  auto p384 = SignaturePublicKey::FromPem(kP384Pem);
  ASSERT_TRUE(p256.ok() && p384.ok());
  EXPECT_THAT(p256->Verify(kMessage, Bytes(kP384SigHex)), StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(p384->Verify(kMessage, Bytes(kP256SigHex)), StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST(SignaturePublicKeyTest, RefusesKeysOutsideTheList) {
  struct Case {
    const char* name;
    std::string pem;
    const char* substring;
  };
  const Case cases[] = {
      {"P-521", kP521Pem, "P-256 and P-384"},
      {"RSA-1024", kRsa1024Pem, "2048 to 8192"},
      {"empty", "", "BEGIN PUBLIC KEY"},
      {"private key label", "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n", "BEGIN PUBLIC KEY"},
      {"truncated", std::string(kP256Pem).substr(0, 60), "does not parse"},
      {"garbage body", "-----BEGIN PUBLIC KEY-----\nAAAAAAAA\n-----END PUBLIC KEY-----\n", "does not parse"},
  };
  for (const Case& c : cases) {
    auto key = SignaturePublicKey::FromPem(c.pem);
    ASSERT_FALSE(key.ok()) << c.name;
    EXPECT_THAT(key, StatusIs(absl::StatusCode::kInvalidArgument)) << c.name;
    EXPECT_THAT(std::string(key.status().message()), ::testing::HasSubstr(c.substring))
        << c.name << ": " << key.status();
  }
}

TEST(SignaturePublicKeyTest, TextBeforeThePemBlockIsIgnored) {
  auto key = SignaturePublicKey::FromPem(std::string("# cosign.pub\n") + kP256Pem);
  ASSERT_THAT(key, IsOk());
  EXPECT_EQ(key->AlgorithmName(), "ECDSA P-256");
}

}  // namespace
}  // namespace cdh::crypto
