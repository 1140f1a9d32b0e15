// PullImage's policy and encryption paths through the real ImagePuller: docker-registry on
// 127.0.0.1, images built with umoci and pushed with skopeo, cosign-format signatures from
// cosign_sign.py, layers encrypted by ocicrypt_encrypt.py, the production PolicyEvaluator and
// OcicryptLayerDecryptor (key unwrap in-process). The broker is FakeResourceProvider here; the
// daemon end-to-end test puts the policy, the cosign key and the KEK in kbs-dev.
// Needs root (the rootfs is an overlay mount); skipped otherwise.
#include <sys/mount.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

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
using cdh::testing::LocalRegistry;
using cdh::testing::ReadFile;
using cdh::testing::RunCommand;
using cdh::testing::SourcePath;
using cdh::testing::TempDir;
using cdh::testing::WriteTreeFile;

class PolicyPullTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "mounting the overlay rootfs needs root";
    auto reg = LocalRegistry::Start(tmp_.path() + "/reg", cdh::testing::RegistryAuth::kNone);
    ASSERT_TRUE(reg.ok()) << reg.status();
    registry_ = *std::move(reg);
    http_ = *http::CurlHttpClient::New({});
    RegistryConfig config;
    config.registries.push_back(RegistryEntry{"", registry_->host(), true, false, {}});
    factory_ = std::make_unique<DefaultRegistryClientFactory>(*http_, config, nullptr);

    WriteTreeFile(tmp_.path() + "/base", "etc/os-release", "NAME=fraud\n");
    WriteTreeFile(tmp_.path() + "/app", "app/score.sh", "#!/bin/sh\necho scored\n", 0755);
    ASSERT_TRUE(builder_.Build("app", {{tmp_.path() + "/base", {}}, {tmp_.path() + "/app", {}}}).ok());
    for (const char* repo : {"signed/app", "signed/unsigned", "plain/app"}) {
      ASSERT_TRUE(builder_.Push("app", Image(repo)).ok());
    }
    Python({"cosign_sign.py", "keygen", tmp_.path() + "/cosign"});
    Python(
        {"cosign_sign.py", "sign", "http://" + registry_->host(), "signed/app", "latest", tmp_.path() + "/cosign.key"});
    kek_ = std::string(32, '\x42');
    std::ofstream(tmp_.path() + "/kek", std::ios::binary) << kek_;
    for (const char* tag : {"v1", "tampered"}) {
      std::vector<std::string> args = {"ocicrypt_encrypt.py",
                                       "push",
                                       builder_.layout(),
                                       "app",
                                       "http://" + registry_->host(),
                                       "enc/app",
                                       tag,
                                       "--kek",
                                       tmp_.path() + "/kek",
                                       "--kid",
                                       "kbs:///default/image-kek/1"};
      if (std::string(tag) == "tampered") args.push_back("--tamper");
      Python(args);
    }
    kbs_.Put("default/image-kek/1", kek_);
    kbs_.Put("default/cosign-public-key/test", ReadFile(tmp_.path() + "/cosign.pub"));
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
    ASSERT_TRUE(evaluator.ok()) << evaluator.status();
    evaluator_ = *std::move(evaluator);
    ImagePullerOptions options;
    options.work_dir = tmp_.path() + "/work";
    auto puller = ImagePuller::New(options, *factory_, *evaluator_, decryptor_, nullptr);
    ASSERT_TRUE(puller.ok()) << puller.status();
    puller_ = *std::move(puller);
  }

  void TearDown() override {
    for (const auto& b : bundles_) umount2((b + "/rootfs").c_str(), MNT_DETACH);
  }

  void Python(std::vector<std::string> args) {
    args[0] = SourcePath("tests/image/" + args[0]);
    args.insert(args.begin(), "/usr/bin/python3");
    auto r = RunCommand(args, "", 120);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  std::string Image(const std::string& repo) { return registry_->host() + "/" + repo + ":latest"; }
  std::string Bundle() {
    bundles_.push_back(tmp_.path() + "/bundle" + std::to_string(bundles_.size()));
    return bundles_.back();
  }
  absl::StatusOr<std::string> Pull(const std::string& image, const std::string& bundle) {
    return puller_->Pull(image, bundle, absl::Now() + absl::Seconds(120));
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

  TempDir tmp_;
  std::unique_ptr<LocalRegistry> registry_;
  std::unique_ptr<http::CurlHttpClient> http_;
  std::unique_ptr<DefaultRegistryClientFactory> factory_;
  ImageBuilder builder_{tmp_.path() + "/build"};
  std::string kek_;
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
  EXPECT_EQ(denied.status().code(), absl::StatusCode::kPermissionDenied) << denied.status();
  EXPECT_NE(std::string(denied.status().message()).find("Image policy rejected: Denied by policy: "),
            std::string::npos);
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
  EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied) << r.status();
  EXPECT_FALSE(IsMounted(bundle + "/rootfs"));
}

TEST_F(PolicyPullTest, TamperedEncryptedImageFailsWithNoFilesLeft) {
  std::string bundle = Bundle();
  auto r = Pull(registry_->host() + "/enc/app:tampered", bundle);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << r.status();
  EXPECT_NE(std::string(r.status().message()).find("HMAC"), std::string::npos) << r.status();
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
