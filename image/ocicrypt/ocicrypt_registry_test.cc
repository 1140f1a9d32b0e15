// Encrypted layers from a real registry: an image built with umoci, encrypted for the CoCo key
// provider by tests/image/ocicrypt_encrypt.py (an independent Python implementation of
// containers/ocicrypt's format) and pushed to docker-registry on 127.0.0.1, then streamed through
// the production OciRegistryClient into OcicryptLayerDecryptor. The broker holding the KEK is
// FakeResourceProvider here (the daemon end-to-end test uses kbs-dev).
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"
#include "http/curl_http_client.h"
#include "image/digest.h"
#include "image/manifest.h"
#include "image/oci_registry_client.h"
#include "image/ocicrypt/ocicrypt_layer_decryptor.h"
#include "resources/fake_resource_provider.h"
#include "resources/kms/kbs_kms.h"
#include "tests/image/registry_fixture.h"
#include "tests/test_util.h"

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

using cdh::testing::ImageBuilder;
using cdh::testing::LocalRegistry;
using cdh::testing::RunCommand;
using cdh::testing::SourcePath;
using cdh::testing::TempDir;

class OcicryptRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto registry = LocalRegistry::Start(dir_.path() + "/registry", cdh::testing::RegistryAuth::kNone);
    if (!registry.ok()) GTEST_SKIP() << registry.status();
    registry_ = *std::move(registry);
    ImageBuilder builder(dir_.path() + "/build");
    cdh::testing::WriteTreeFile(dir_.path() + "/l1", "app/model.bin", std::string(300000, 'm'));
    cdh::testing::WriteTreeFile(dir_.path() + "/l2", "app/run.sh", "#!/bin/sh\necho scored\n", 0755);
    ASSERT_TRUE(builder.Build("app", {{dir_.path() + "/l1", {}}, {dir_.path() + "/l2", {}}}).ok());
    layout_ = builder.layout();
    kek_ = std::string(32, '\x5a');
    std::ofstream(dir_.path() + "/kek", std::ios::binary) << kek_;
    kbs_.Put("default/image-kek/1", kek_);
    for (bool tamper : {false, true}) {
      std::vector<std::string> argv = {"/usr/bin/python3",
                                       SourcePath("tests/image/ocicrypt_encrypt.py"),
                                       "push",
                                       layout_,
                                       "app",
                                       "http://" + registry_->host(),
                                       "enc/app",
                                       tamper ? "tampered" : "v1",
                                       "--kek",
                                       dir_.path() + "/kek",
                                       "--kid",
                                       "kbs:///default/image-kek/1"};
      if (tamper) argv.push_back("--tamper");
      auto r = RunCommand(argv, "", 120);
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    http_ = *http::CurlHttpClient::New({});
    client_ = *OciRegistryClient::New(*http_, {registry_->host(), true, std::nullopt});
  }

  // Decrypts every layer of enc/app:<tag>; returns the first error and the plaintext digests.
  absl::Status DecryptAll(const std::string& tag, std::vector<std::string>& plain_digests) {
    auto ref = *ImageReference::Parse(registry_->host() + "/enc/app:" + tag);
    auto fetched = client_->GetManifest(ref, tag, CallContext::WithTimeout(absl::Seconds(30)));
    if (!fetched.ok()) return fetched.status();
    auto manifest = ParseImageManifest(fetched->bytes);
    if (!manifest.ok()) return manifest.status();
    for (const Descriptor& layer : manifest->layers) {
      EXPECT_TRUE(decryptor_.IsEncrypted(layer)) << layer.media_type;
      auto stream = decryptor_.Open(layer, CallContext::WithTimeout(absl::Seconds(30)));
      if (!stream.ok()) return stream.status();
      DigestHasher hasher;
      std::string plain;
      absl::Status st = client_->StreamBlob(
          ref, layer.digest, layer.size,
          [&](std::span<const uint8_t> chunk) {
            plain.clear();
            absl::Status s = (*stream)->Update(chunk, plain);
            hasher.Update(plain);
            return s;
          },
          CallContext::WithTimeout(absl::Seconds(30)));
      if (!st.ok()) return st;
      if (absl::Status s = (*stream)->Finish(); !s.ok()) return s;
      plain_digests.push_back(hasher.Finish().String());
    }
    return absl::OkStatus();
  }

  TempDir dir_;
  std::unique_ptr<LocalRegistry> registry_;
  std::string layout_;
  std::string kek_;
  resources::FakeResourceProvider kbs_;
  resources::KmsRegistry kms_ = KbsOnlyRegistry(kbs_);
  resources::KeyUnwrapper unwrapper_{kms_};
  OcicryptLayerDecryptor decryptor_{unwrapper_};
  std::unique_ptr<http::CurlHttpClient> http_;
  std::unique_ptr<OciRegistryClient> client_;
};

TEST_F(OcicryptRegistryTest, DecryptsToTheOriginalLayers) {
  std::vector<std::string> digests;
  absl::Status s = DecryptAll("v1", digests);
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_EQ(digests.size(), 2u);
  // The plaintext of each layer is byte for byte the blob umoci wrote into the layout.
  for (const std::string& d : digests) {
    std::string hex = d.substr(d.find(':') + 1);
    EXPECT_TRUE(std::filesystem::exists(layout_ + "/blobs/sha256/" + hex)) << d;
  }
  EXPECT_EQ(kbs_.calls(), 2);  // one key release per layer
}

TEST_F(OcicryptRegistryTest, TamperedLayerFailsWithDataLoss) {
  // The flipped blob is stored under its own digest: the registry's digest check passes and only
  // the HMAC over the ciphertext catches it.
  std::vector<std::string> digests;
  absl::Status s = DecryptAll("tampered", digests);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kDataLoss)) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("HMAC")) << s;
}

TEST_F(OcicryptRegistryTest, WrongKekIsPermissionDenied) {
  kbs_.Put("default/image-kek/1", std::string(32, '\x00'));
  std::vector<std::string> digests;
  EXPECT_THAT(DecryptAll("v1", digests), StatusIs(absl::StatusCode::kPermissionDenied));
}

}  // namespace
}  // namespace cdh::image
