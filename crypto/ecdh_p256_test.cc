// Known-answer tests for ECDH P-256 and the Concat KDF from kbs-protocol.md §3.6.
#include "crypto/ecdh_p256.h"

#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "common/base64.h"
#include "common/testing/status_matchers.h"
#include "crypto/hash.h"
#include "gtest/gtest.h"

namespace cdh::crypto {
namespace {

using ::cdh::testing::IsOk;
using ::cdh::testing::StatusIs;

// §2.5 / §3.6: TEE private key d = SHA-256("kbs-kat tee key").
nlohmann::json TeeJwk() {
  return {{"kty", "EC"},
          {"crv", "P-256"},
          {"x", "OyWymcN15Jx3ZLYFXK3BJhycILN_Zy5HEOYW7o1Urvc"},
          {"y", "g7rP1SDvHYqatF9tvKiKxo9f84G93qY8I_rDE0Otgjk"},
          {"d", Base64UrlEncode(Sha256("kbs-kat tee key"))}};
}
// §3.6: the KBS ephemeral public key (epk of the protected header).
nlohmann::json EpkJwk() {
  return {{"kty", "EC"},
          {"crv", "P-256"},
          {"x", "6Vy4XDSbqb0-rv9_hSvTIyc5oZ133CWibCBqHSvxzgA"},
          {"y", "nhogQ99KfU7kyyZOAqDwXuC7qa08UcmqkLkqlu4Qhh8"}};
}

TEST(EcdhP256Test, SharedSecretAndKekMatchSpecVector) {
  auto tee = EcP256PrivateKey::FromJwk(TeeJwk());
  ASSERT_THAT(tee, IsOk());
  auto epk = EcP256PublicKey::FromJwk(EpkJwk());
  ASSERT_THAT(epk, IsOk());
  auto z = EcdhP256(*tee, *epk);
  ASSERT_THAT(z, IsOk());
  EXPECT_EQ(HexEncode(std::string(z->RevealString())),
            "e46bf65496a96cd9a5df83634954d75eb0248bfba2314e9fcd45e10155a505da");
  auto kek = ConcatKdfSha256(*z, "ECDH-ES+A256KW", 256);
  ASSERT_THAT(kek, IsOk());
  EXPECT_EQ(HexEncode(std::string(kek->RevealString())),
            "31291d89a2aeda8f1a456d2624d1b69dc103de0fb4168c4ebba6cab56d0b389d");
}

TEST(EcdhP256Test, EphemeralSideDerivesTheSameSecret) {
  // d of the KBS ephemeral key = SHA-256("kbs-kat kbs ephemeral key") (§3.6).
  nlohmann::json eph = EpkJwk();
  eph["d"] = Base64UrlEncode(Sha256("kbs-kat kbs ephemeral key"));
  auto eph_key = EcP256PrivateKey::FromJwk(eph);
  ASSERT_THAT(eph_key, IsOk());
  auto tee_pub = EcP256PublicKey::FromJwk(TeeJwk());
  ASSERT_THAT(tee_pub, IsOk());
  auto z = EcdhP256(*eph_key, *tee_pub);
  ASSERT_THAT(z, IsOk());
  EXPECT_EQ(HexEncode(std::string(z->RevealString())),
            "e46bf65496a96cd9a5df83634954d75eb0248bfba2314e9fcd45e10155a505da");
}

// Key generation and public-key import share one process-wide P-256 domain-parameter key
// (ec_p256.cc), and kbs-dev verifies every token with one shared public key: many threads at
// once must still get fresh, distinct keys that agree, and the shared keys must keep working.
TEST(EcdhP256Test, ConcurrentKeyGenerationImportAndAgreement) {
  auto tee = EcP256PrivateKey::FromJwk(TeeJwk());
  ASSERT_THAT(tee, IsOk());
  auto epk = EcP256PublicKey::FromJwk(EpkJwk());
  ASSERT_THAT(epk, IsOk());
  auto signer = EcP256PrivateKey::Generate();
  ASSERT_THAT(signer, IsOk());
  EcP256PublicKey verifier = signer->PublicKey();
  auto signature = signer->SignEs256("token");
  ASSERT_THAT(signature, IsOk());

  constexpr int kThreads = 8;
  constexpr int kRounds = 40;
  std::atomic<int> failures{0};
  std::vector<std::vector<std::string>> public_xs(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRounds; ++i) {
        auto a = EcP256PrivateKey::Generate();
        auto b = EcP256PrivateKey::Generate();
        if (!a.ok() || !b.ok()) {
          ++failures;
          continue;
        }
        auto a_pub = EcP256PublicKey::FromJwk(a->ToPublicJwk());
        auto b_pub = EcP256PublicKey::FromJwk(b->ToPublicJwk());
        if (!a_pub.ok() || !b_pub.ok()) {
          ++failures;
          continue;
        }
        auto ab = EcdhP256(*a, *b_pub);
        auto ba = EcdhP256(*b, *a_pub);
        if (!ab.ok() || !ba.ok() || ab->RevealString() != ba->RevealString()) ++failures;
        // The shared keys, used by every thread at once.
        auto z = EcdhP256(*tee, *epk);
        if (!z.ok() || HexEncode(std::string(z->RevealString())) !=
                           "e46bf65496a96cd9a5df83634954d75eb0248bfba2314e9fcd45e10155a505da") {
          ++failures;
        }
        if (!verifier.VerifyEs256("token", *signature).ok()) ++failures;
        if (verifier.VerifyEs256("token!", *signature).ok()) ++failures;
        public_xs[t].push_back(a_pub->X());
        public_xs[t].push_back(b_pub->X());
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  std::set<std::string> distinct;
  for (const auto& xs : public_xs) distinct.insert(xs.begin(), xs.end());
  EXPECT_EQ(distinct.size(), static_cast<size_t>(2 * kThreads * kRounds)) << "every generated key is fresh";
}

TEST(ConcatKdfTest, RejectsBadLengths) {
  SecretBytes z(32);
  EXPECT_THAT(ConcatKdfSha256(z, "A", 0), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ConcatKdfSha256(z, "A", 512), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ConcatKdfSha256(z, "A", 12), StatusIs(absl::StatusCode::kInvalidArgument));
  auto k128 = ConcatKdfSha256(z, "A", 128);
  ASSERT_THAT(k128, IsOk());
  EXPECT_EQ(k128->size(), 16u);
}

}  // namespace
}  // namespace cdh::crypto
