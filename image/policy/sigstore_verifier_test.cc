#include "image/policy/sigstore_verifier.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/base64.h"
#include "common/testing/status_matchers.h"
#include "image/policy/testing/cosign_fixture.h"
#include "image/policy/testing/in_memory_registry.h"

namespace cdh::image {
namespace {

using ::cdh::testing::StatusIs;
using ::testing::HasSubstr;

using testing::CosignKey;
using testing::CosignLayer;
using testing::CosignPayload;
using testing::InMemoryRegistry;
using testing::PutSignatures;

constexpr char kName[] = "127.0.0.1:5000/signed/app";

class SigstoreVerifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    image_ = *ImageReference::Parse(std::string(kName) + ":v1");
    digest_ = registry_.PutManifest(kName, "v1", R"({"schemaVersion":2,"layers":[]})");
    keys_.push_back(*crypto::SignaturePublicKey::FromPem(key_.PublicPem()));
  }

  CosignLayer Signed(const std::string& payload, const CosignKey& key) {
    return {payload, Base64StdEncode(key.SignDer(payload))};
  }
  CosignLayer Good() { return Signed(CosignPayload(kName, digest_.String()), key_); }

  absl::Status Run(std::optional<SignedIdentity> identity = std::nullopt) {
    return VerifySigstoreSigned(keys_, identity, image_, {digest_}, registry_, CallContext{});
  }

  void ExpectDenied(const std::vector<CosignLayer>& layers, const std::string& reason,
                    std::optional<SignedIdentity> identity = std::nullopt) {
    PutSignatures(registry_, kName, digest_, layers);
    absl::Status s = Run(identity);
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kPermissionDenied)) << s;
    EXPECT_THAT(std::string(s.message()), HasSubstr(reason)) << s;
  }

  InMemoryRegistry registry_;
  CosignKey key_;
  ImageReference image_;
  Digest digest_;
  std::vector<crypto::SignaturePublicKey> keys_;
};

TEST_F(SigstoreVerifierTest, AttachmentTag) {
  EXPECT_EQ(SigstoreAttachmentTag(*Digest::Parse("sha256:" + std::string(64, 'c'))),
            "sha256-" + std::string(64, 'c') + ".sig");
}

TEST_F(SigstoreVerifierTest, ValidSignatureIsAccepted) {
  PutSignatures(registry_, kName, digest_, {Good()});
  EXPECT_TRUE(Run().ok());
}

TEST_F(SigstoreVerifierTest, SignatureBase64WithLineBreaksIsAccepted) {
  CosignLayer l = Good();
  l.signature_b64.insert(20, "\r\n");
  PutSignatures(registry_, kName, digest_, {l});
  EXPECT_TRUE(Run().ok());
}

TEST_F(SigstoreVerifierTest, MissingSignatureIsDenied) {
  absl::Status s = Run();
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(std::string(s.message()), HasSubstr("no sigstore signature found")) << s;
}

TEST_F(SigstoreVerifierTest, PayloadBitFlipsAreDenied) {
  const std::string payload = CosignPayload(kName, digest_.String());
  const std::string sig = Base64StdEncode(key_.SignDer(payload));
  for (size_t i = 0; i < payload.size(); i += 9) {
    std::string flipped = payload;
    flipped[i] ^= 0x01;
    ExpectDenied({{flipped, sig}}, "no signature verifies");
  }
}

TEST_F(SigstoreVerifierTest, SignatureBitFlipsAndTruncationAreDenied) {
  const std::string payload = CosignPayload(kName, digest_.String());
  const std::string der = key_.SignDer(payload);
  for (size_t i = 0; i < der.size(); i += 3) {
    std::string flipped = der;
    flipped[i] ^= 0x04;
    ExpectDenied({{payload, Base64StdEncode(flipped)}}, "no signature verifies");
  }
  ExpectDenied({{payload, Base64StdEncode(der.substr(0, der.size() - 1))}}, "no signature verifies");
  ExpectDenied({{payload, ""}}, "no signature verifies");
  ExpectDenied({{payload, "***"}}, "not standard base64");
}

TEST_F(SigstoreVerifierTest, WrongKeyIsDenied) {
  CosignKey other;
  ExpectDenied({Signed(CosignPayload(kName, digest_.String()), other)}, "no signature verifies with the policy's key");
}

TEST_F(SigstoreVerifierTest, SignatureForAnotherDigestIsDenied) {
  // A valid signature of another image, re-attached to this one (a re-tagged image).
  ExpectDenied({Signed(CosignPayload(kName, "sha256:" + std::string(64, 'e')), key_)}, "is for manifest sha256:eee");
}

TEST_F(SigstoreVerifierTest, WrongTypeIsDenied) {
  ExpectDenied({Signed(CosignPayload(kName, digest_.String(), "atomic container signature"), key_)},
               "has type `atomic container signature`");
}

TEST_F(SigstoreVerifierTest, WrongIdentityIsDeniedWhenChecked) {
  SignedIdentity repo;
  repo.type = SignedIdentity::Type::kMatchRepository;
  ExpectDenied({Signed(CosignPayload("127.0.0.1:5000/other/app", digest_.String()), key_)},
               "signed identity does not match (matchRepository)", repo);
  // Without signedIdentity only the digest is checked (as image-rs does).
  EXPECT_TRUE(Run().ok());
  // The right repository passes.
  PutSignatures(registry_, kName, digest_, {Good()});
  EXPECT_TRUE(Run(repo).ok());
}

TEST_F(SigstoreVerifierTest, CorruptPayloadBlobIsDenied) {
  CosignLayer good = Good();
  PutSignatures(registry_, kName, digest_, {good});
  registry_.PutRawBlob(Digest::Sha256Of(good.payload), good.payload + " ");
  absl::Status s = Run();
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kPermissionDenied)) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("does not match its digest")) << s;
}

TEST_F(SigstoreVerifierTest, OneGoodSignatureAmongBadOnesIsEnough) {
  CosignKey other;
  CosignLayer wrong_media = Good();
  wrong_media.media_type = "application/octet-stream";
  PutSignatures(registry_, kName, digest_,
                {Signed(CosignPayload(kName, digest_.String()), other), wrong_media, Good()});
  EXPECT_TRUE(Run().ok());
}

TEST_F(SigstoreVerifierTest, AttachmentWithoutCosignLayersIsDenied) {
  CosignLayer wrong_media = Good();
  wrong_media.media_type = "application/octet-stream";
  ExpectDenied({wrong_media}, "holds no cosign signature layer");
}

TEST_F(SigstoreVerifierTest, AttachmentThatIsAnIndexIsDenied) {
  std::string tag = SigstoreAttachmentTag(digest_);
  registry_.PutManifest(kName, tag,
                        R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]})");
  absl::Status s = Run();
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(std::string(s.message()), HasSubstr("not an OCI image manifest")) << s;
}

TEST_F(SigstoreVerifierTest, TooManySignatureLayersAreDenied) {
  std::vector<CosignLayer> many(kMaxSignatureLayers + 1, Good());
  ExpectDenied(many, "more than 64 signatures");
}

TEST_F(SigstoreVerifierTest, UnreachableRegistryPropagates) {
  registry_.FailWith(absl::UnavailableError("connection refused"));
  EXPECT_THAT(Run(), StatusIs(absl::StatusCode::kUnavailable));
  registry_.FailWith(absl::DeadlineExceededError("timeout"));
  EXPECT_THAT(Run(), StatusIs(absl::StatusCode::kDeadlineExceeded));
}

}  // namespace
}  // namespace cdh::image
