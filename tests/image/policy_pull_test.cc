// PullImage's policy and encryption paths through the real ImagePuller: docker-registry on
// 127.0.0.1, images built with umoci and pushed with skopeo, cosign-format signatures from
// cosign_sign.py, layers encrypted by ocicrypt_encrypt.py, the production PolicyEvaluator and
// OcicryptLayerDecryptor (key unwrap in-process). The broker is FakeResourceProvider here; the
// daemon end-to-end test puts the policy, the cosign key and the KEK in kbs-dev.
// One registry and one set of images for the suite (the binary is one ctest test).
// Needs root (the rootfs is an overlay mount); skipped otherwise.
#include <sys/mount.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"
#include "http/curl_http_client.h"
#include "image/image_puller.h"
#include "image/ocicrypt/ocicrypt_layer_decryptor.h"
#include "image/policy/policy_evaluator.h"
#include "image/registry_config.h"
#include "resources/fake_resource_provider.h"
#include "resources/kms/kbs_kms.h"
#include "tests/image/registry_fixture.h"
#include "tests/test_util.h"

namespace cdh::image {
namespace {

namespace fs = std::filesystem;
using cdh::testing::ImageBuilder;
using cdh::testing::IsOk;
using cdh::testing::LocalRegistry;
using cdh::testing::ReadFile;
using cdh::testing::RunCommand;
using cdh::testing::SourcePath;
using cdh::testing::StatusIs;
using cdh::testing::TempDir;
using cdh::testing::WriteTreeFile;
using ::testing::HasSubstr;

class PolicyPullTest : public ::testing::Test {
 protected:
  // The registry, the images, the cosign key pair and the signature: one set for the suite (the
  // tests only read them). Each test gets its own broker fake, puller and layer cache.
  static void SetUpTestSuite() {
    if (geteuid() != 0) {
      skip_ = "mounting the overlay rootfs needs root";
      return;
    }
    dir_ = new TempDir();
    const std::string d = dir_->path();
    auto reg = LocalRegistry::Start(d + "/reg", cdh::testing::RegistryAuth::kNone);
    ASSERT_TRUE(reg.ok()) << reg.status();
    registry_ = reg->release();
    ImageBuilder builder(d + "/build");
    WriteTreeFile(d + "/base", "etc/os-release", "NAME=fraud\n");
    WriteTreeFile(d + "/app", "app/score.sh", "#!/bin/sh\necho scored\n", 0755);
    ASSERT_TRUE(builder.Build("app", {{d + "/base", {}}, {d + "/app", {}}}).ok());
    for (const char* repo : {"signed/app", "signed/unsigned", "plain/app"}) {
      ASSERT_TRUE(builder.Push("app", Image(repo)).ok());
    }
    Python({"cosign_sign.py", "keygen", d + "/cosign"});
    Python({"cosign_sign.py", "sign", "http://" + registry_->host(), "signed/app", "latest", d + "/cosign.key"});
    std::ofstream(d + "/kek", std::ios::binary) << Kek();
    for (const char* tag : {"v1", "tampered"}) {
      std::vector<std::string> args = {"ocicrypt_encrypt.py",
                                       "push",
                                       builder.layout(),
                                       "app",
                                       "http://" + registry_->host(),
                                       "enc/app",
                                       tag,
                                       "--kek",
                                       d + "/kek",
                                       "--kid",
                                       "kbs:///default/image-kek/1"};
      if (std::string(tag) == "tampered") args.push_back("--tamper");
      Python(args);
    }
  }
  static void TearDownTestSuite() {
    delete registry_;
    delete dir_;
    registry_ = nullptr;
    dir_ = nullptr;
  }

  void SetUp() override {
    if (!skip_.empty()) GTEST_SKIP() << skip_;
    ASSERT_NE(registry_, nullptr);
    http_ = *http::CurlHttpClient::New({});
    RegistryConfig config;
    config.registries.push_back(RegistryEntry{"", registry_->host(), true, false, {}});
    factory_ = std::make_unique<DefaultRegistryClientFactory>(*http_, config, nullptr);
    kbs_.Put("default/image-kek/1", Kek());
    kbs_.Put("default/cosign-public-key/test", ReadFile(dir_->path() + "/cosign.pub"));
    const std::string host = registry_->host();
    auto evaluator = PolicyEvaluator::New(
        R"({"default":[{"type":"reject"}],"transports":{"docker":{
          ")" +
            host + R"(/signed":[{"type":"sigstoreSigned","keyPath":"kbs:///default/cosign-public-key/test"}],
          ")" +
            host + R"(/plain":[{"type":"insecureAcceptAnything"}],
          ")" +
            host + R"(/enc":[{"type":"insecureAcceptAnything"}]}}})",
        resolver_);
    ASSERT_THAT(evaluator.status(), IsOk());
    evaluator_ = *std::move(evaluator);
    ImagePullerOptions options;
    options.work_dir = tmp_.path() + "/work";
    auto puller = ImagePuller::New(options, *factory_, *evaluator_, decryptor_, nullptr);
    ASSERT_THAT(puller.status(), IsOk());
    puller_ = *std::move(puller);
  }

  void TearDown() override {
    for (const auto& b : bundles_) umount2((b + "/rootfs").c_str(), MNT_DETACH);
  }

  static std::string Kek() { return std::string(32, '\x42'); }
  static void Python(std::vector<std::string> args) {
    args[0] = SourcePath("tests/image/" + args[0]);
    args.insert(args.begin(), "/usr/bin/python3");
    auto r = RunCommand(args, "", 120);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  static std::string Image(const std::string& repo) { return registry_->host() + "/" + repo + ":latest"; }
  std::string Bundle() {
    bundles_.push_back(tmp_.path() + "/bundle" + std::to_string(bundles_.size()));
    return bundles_.back();
  }
  absl::StatusOr<std::string> Pull(const std::string& image, const std::string& bundle) {
    return puller_->Pull(image, bundle, CallContext::WithTimeout(absl::Seconds(120)));
  }
  bool IsMounted(const std::string& dir) {
    std::ifstream in("/proc/self/mountinfo");
    std::string line;
    while (std::getline(in, line)) {
      if (line.find(" " + dir + " ") != std::string::npos) return true;
    }
    return false;
  }
  size_t PublishedLayers() {
    size_t n = 0;
    if (fs::exists(tmp_.path() + "/work/layers")) {
      for (const auto& e : fs::directory_iterator(tmp_.path() + "/work/layers")) n += e.is_directory() ? 1 : 0;
    }
    return n;
  }

  static inline TempDir* dir_ = nullptr;
  static inline LocalRegistry* registry_ = nullptr;
  static inline std::string skip_;

  TempDir tmp_;
  std::unique_ptr<http::CurlHttpClient> http_;
  std::unique_ptr<DefaultRegistryClientFactory> factory_;
  resources::FakeResourceProvider kbs_;
  ResourceKeyResolver resolver_{kbs_};
  // The `kbs` KMS provider over the fake broker, as the daemon's composition root registers it.
  resources::KmsRegistry kms_ = [this] {
    resources::KmsRegistry registry;
    registry.Register("kbs", [this](const nlohmann::json&) -> absl::StatusOr<std::unique_ptr<resources::KmsDecryptor>> {
      return std::make_unique<resources::KbsKms>(kbs_);
    });
    return registry;
  }();
  resources::KeyUnwrapper unwrapper_{kms_};
  OcicryptLayerDecryptor decryptor_{unwrapper_};
  std::unique_ptr<PolicyEvaluator> evaluator_;
  std::unique_ptr<ImagePuller> puller_;
  std::vector<std::string> bundles_;
};

TEST_F(PolicyPullTest, SignedImageIsUnpackedUnsignedIsRefusedBeforeAnyLayer) {
  std::string bundle = Bundle();
  auto digest = Pull(Image("signed/app"), bundle);
  ASSERT_TRUE(digest.ok()) << digest.status();
  EXPECT_EQ(ReadFile(bundle + "/rootfs/app/score.sh"), "#!/bin/sh\necho scored\n");
  int64_t downloaded = puller_->layers_downloaded();

  // The same image under an unsigned name: refused, although every layer is cached.
  std::string refused = Bundle();
  auto denied = Pull(Image("signed/unsigned"), refused);
  EXPECT_THAT(denied.status(), StatusIs(absl::StatusCode::kPermissionDenied)) << denied.status();
  EXPECT_THAT(std::string(denied.status().message()), HasSubstr("Image policy rejected: Denied by policy: "));
  EXPECT_FALSE(IsMounted(refused + "/rootfs"));
  EXPECT_FALSE(fs::exists(refused + "/config.json"));
  EXPECT_EQ(puller_->layers_downloaded(), downloaded);
}

TEST_F(PolicyPullTest, EncryptedImageIsDecryptedAndTheKeyIsReleasedOnEveryPull) {
  std::string bundle = Bundle();
  auto digest = Pull(registry_->host() + "/enc/app:v1", bundle);
  ASSERT_TRUE(digest.ok()) << digest.status();
  EXPECT_EQ(ReadFile(bundle + "/rootfs/etc/os-release"), "NAME=fraud\n");
  EXPECT_EQ(ReadFile(bundle + "/rootfs/app/score.sh"), "#!/bin/sh\necho scored\n");
  int releases = kbs_.calls();
  EXPECT_EQ(releases, 2);  // one key per layer
  // A second pull finds every layer cached and still needs the keys.
  auto again = Pull(registry_->host() + "/enc/app:v1", Bundle());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(kbs_.calls(), 2 * releases);
}

TEST_F(PolicyPullTest, CachedPlaintextTwinDoesNotBypassTheKeyRelease) {
  ASSERT_TRUE(Pull(Image("plain/app"), Bundle()).ok());
  kbs_.Put("default/image-kek/1", std::string(32, '\x00'));  // the broker no longer releases the right key
  std::string bundle = Bundle();
  auto r = Pull(registry_->host() + "/enc/app:v1", bundle);
  EXPECT_THAT(r.status(), StatusIs(absl::StatusCode::kPermissionDenied)) << r.status();
  EXPECT_FALSE(IsMounted(bundle + "/rootfs"));
}

TEST_F(PolicyPullTest, TamperedEncryptedImageFailsWithNoFilesLeft) {
  std::string bundle = Bundle();
  auto r = Pull(registry_->host() + "/enc/app:tampered", bundle);
  EXPECT_THAT(r.status(), StatusIs(absl::StatusCode::kDataLoss)) << r.status();
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("HMAC")) << r.status();
  EXPECT_FALSE(IsMounted(bundle + "/rootfs"));
  EXPECT_FALSE(fs::exists(bundle + "/config.json"));
  EXPECT_FALSE(fs::exists(bundle + "/rootfs/app/score.sh"));
  EXPECT_EQ(PublishedLayers(), 0u);
  if (fs::exists(tmp_.path() + "/work/staging")) {
    EXPECT_TRUE(fs::is_empty(tmp_.path() + "/work/staging"));
  }
}

}  // namespace
}  // namespace cdh::image
