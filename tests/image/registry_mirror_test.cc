// Registry mirrors, location remapping and blocked prefixes (image-pull spec §2.2; image-rs
// registry/mod.rs) through the real ImagePuller against three real docker-registry instances on
// 127.0.0.1: the origin, mirror A (which holds nothing) and mirror B (which holds other content
// under the same names, so the test can tell where a rootfs came from). Signatures are made by
// cosign_sign.py and checked by the production PolicyEvaluator with a file:// key.
// One set of registries and images for the whole suite (the tests pull distinct repositories).
// Needs root (the rootfs is an overlay mount); skipped otherwise.
#include <sys/mount.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/time/clock.h"
#include "common/strings.h"
#include "common/testing/status_matchers.h"
#include "http/curl_http_client.h"
#include "image/image_puller.h"
#include "image/policy/policy_evaluator.h"
#include "image/registry_config.h"
#include "resources/fake_resource_provider.h"
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
using ::testing::Not;

class RegistryMirrorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (geteuid() != 0) {
      skip_ = "mounting the overlay rootfs needs root";
      return;
    }
    dir_ = new TempDir();
    const std::string d = dir_->path();
    for (auto [name, reg] :
         {std::pair{"origin", &origin_}, std::pair{"mirror-a", &mirror_a_}, std::pair{"mirror-b", &mirror_b_}}) {
      auto started = LocalRegistry::Start(d + "/" + name, cdh::testing::RegistryAuth::kNone);
      if (!started.ok()) {
        skip_ = std::string(started.status().message());
        return;
      }
      *reg = started->release();
    }
    const std::string o = origin_->host(), a = mirror_a_->host(), b = mirror_b_->host();

    ImageBuilder builder(d + "/build");
    WriteTreeFile(d + "/origin-tree", "app/id.txt", "origin\n");
    WriteTreeFile(d + "/mirror-tree", "app/id.txt", "mirror-b\n");
    ASSERT_THAT(builder.Build("origin", {{d + "/origin-tree", {}}}), IsOk());
    ASSERT_THAT(builder.Build("mirror", {{d + "/mirror-tree", {}}}), IsOk());
    for (const char* repo : {"fb/app", "mirrored/app", "blocked/app", "gone-elsewhere/app"}) {
      ASSERT_THAT(builder.Push("origin", o + "/" + repo + ":v1"), IsOk());
    }
    ASSERT_THAT(builder.Push("mirror", b + "/mirrored/app:v1"), IsOk());
    ASSERT_THAT(builder.Push("mirror", b + "/new/app:v1"), IsOk());
    ASSERT_THAT(builder.Push("mirror", b + "/new/wrongid:v1"), IsOk());
    auto inspect = builder.Skopeo(
        {"inspect", "--tls-verify=false", "--format", "{{.Digest}}", "docker://" + b + "/mirrored/app:v1"});
    ASSERT_THAT(inspect.status(), IsOk());
    mirror_b_digest_ = inspect->substr(0, inspect->find('\n'));

    // The remapped image is signed for the name the caller uses (the origin's); the other one for
    // the name it has at the remapped location.
    Python({"cosign_sign.py", "keygen", d + "/cosign"});
    Python({"cosign_sign.py", "sign", "http://" + b, "new/app", "v1", d + "/cosign.key", "--identity", o + "/old/app"});
    Python({"cosign_sign.py", "sign", "http://" + b, "new/wrongid", "v1", d + "/cosign.key"});

    registry_config_ = nlohmann::json::parse(R"({"registry":[
      {"location":")" + o + R"(","insecure":true},
      {"prefix":")" + o + R"(/fb","insecure":true,"mirror":[{"location":")" +
                                             a + R"(/fb","insecure":true}]},
      {"prefix":")" + o + R"(/mirrored","insecure":true,"mirror":[
        {"location":")" + a + R"(/mirrored","insecure":true},{"location":")" +
                                             b + R"(/mirrored","insecure":true}]},
      {"prefix":")" + o + R"(/blocked","blocked":true},
      {"prefix":")" + o + R"(/old","location":")" +
                                             b + R"(/new","insecure":true},
      {"prefix":")" + o + R"(/gone","insecure":true,"mirror":[{"location":")" +
                                             a + R"(/gone","insecure":true}]}]})");
  }

  static void TearDownTestSuite() {
    delete origin_;
    delete mirror_a_;
    delete mirror_b_;
    delete dir_;
    origin_ = mirror_a_ = mirror_b_ = nullptr;
    dir_ = nullptr;
  }

  void SetUp() override {
    if (!skip_.empty()) GTEST_SKIP() << skip_;
    ASSERT_NE(mirror_b_, nullptr);
    http_ = *http::CurlHttpClient::New({});
    auto config = RegistryConfig::FromJson(registry_config_);
    ASSERT_THAT(config.status(), IsOk());
    factory_ = std::make_unique<DefaultRegistryClientFactory>(*http_, *std::move(config), nullptr);
    const std::string o = origin_->host();
    auto evaluator = PolicyEvaluator::New(R"({"default":[{"type":"insecureAcceptAnything"}],"transports":{"docker":{
        ")" + o + R"(/old":[{"type":"sigstoreSigned","keyPath":"file://)" +
                                              dir_->path() + R"(/cosign.pub",
                             "signedIdentity":{"type":"matchRepository"}}]}}})",
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

  static void Python(std::vector<std::string> args) {
    args[0] = SourcePath("tests/image/" + args[0]);
    args.insert(args.begin(), "/usr/bin/python3");
    auto r = RunCommand(args, "", 120);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  // The GET requests a registry answered, one access-log line each (pushes use other methods).
  static std::string Gets(const LocalRegistry& registry) {
    const std::string log = ReadFile(registry.log_path());
    std::string out;
    for (std::string_view line : StrSplit(log, '\n')) {
      if (line.find("\"GET /v2/") != std::string_view::npos) StrAppend(&out, line, "\n");
    }
    return out;
  }

  std::string Bundle() {
    bundles_.push_back(tmp_.path() + "/bundle" + std::to_string(bundles_.size()));
    return bundles_.back();
  }
  absl::StatusOr<std::string> Pull(const std::string& repo_and_tag, const std::string& bundle) {
    return puller_->Pull(origin_->host() + "/" + repo_and_tag, bundle, CallContext::WithTimeout(absl::Seconds(120)));
  }

  static inline TempDir* dir_ = nullptr;
  static inline LocalRegistry* origin_ = nullptr;
  static inline LocalRegistry* mirror_a_ = nullptr;
  static inline LocalRegistry* mirror_b_ = nullptr;
  static inline std::string mirror_b_digest_;
  static inline nlohmann::json registry_config_;
  static inline std::string skip_;

  TempDir tmp_;
  std::unique_ptr<http::CurlHttpClient> http_;
  std::unique_ptr<DefaultRegistryClientFactory> factory_;
  resources::FakeResourceProvider kbs_;  // unused: the key is a file:// path
  ResourceKeyResolver resolver_{kbs_};
  RefuseEncryptedLayerDecryptor decryptor_;
  std::unique_ptr<PolicyEvaluator> evaluator_;
  std::unique_ptr<ImagePuller> puller_;
  std::vector<std::string> bundles_;
};

TEST_F(RegistryMirrorTest, MirrorWithoutTheImageFallsBackToTheOrigin) {
  std::string bundle = Bundle();
  ASSERT_THAT(Pull("fb/app:v1", bundle).status(), IsOk());
  EXPECT_EQ(ReadFile(bundle + "/rootfs/app/id.txt"), "origin\n");
  // The mirror was asked first.
  EXPECT_THAT(Gets(*mirror_a_), HasSubstr("\"GET /v2/fb/app/manifests/v1 "));
}

TEST_F(RegistryMirrorTest, MirrorHoldingTheImageIsUsedAndItsDigestReported) {
  std::string bundle = Bundle();
  auto digest = Pull("mirrored/app:v1", bundle);
  ASSERT_THAT(digest.status(), IsOk());
  EXPECT_EQ(ReadFile(bundle + "/rootfs/app/id.txt"), "mirror-b\n");
  EXPECT_EQ(*digest, mirror_b_digest_);
  // Mirror A (listed first) was tried; the origin was not needed.
  EXPECT_THAT(Gets(*mirror_a_), HasSubstr("\"GET /v2/mirrored/app/manifests/v1 "));
  EXPECT_THAT(Gets(*origin_), Not(HasSubstr("\"GET /v2/mirrored/app/")));
}

TEST_F(RegistryMirrorTest, BlockedPrefixIsRefusedWithoutAnyRequest) {
  std::string bundle = Bundle();
  EXPECT_THAT(Pull("blocked/app:v1", bundle).status(),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       "failed to compose a legal image reference with given registry configuration: image " +
                           origin_->host() + "/blocked/app:v1 is blocked by registry rule"));
  EXPECT_THAT(Gets(*origin_), Not(HasSubstr("\"GET /v2/blocked/")));
  EXPECT_FALSE(fs::exists(bundle + "/config.json"));
}

TEST_F(RegistryMirrorTest, RemappedPrefixIsPulledFromItsLocationAndVerifiedAsRequested) {
  std::string bundle = Bundle();
  auto digest = Pull("old/app:v1", bundle);
  ASSERT_THAT(digest.status(), IsOk());
  EXPECT_EQ(ReadFile(bundle + "/rootfs/app/id.txt"), "mirror-b\n");
  // The signature was looked up at the remapped location (B), where cosign_sign.py attached it.
  EXPECT_THAT(Gets(*mirror_b_), HasSubstr("\"GET /v2/new/app/manifests/sha256-"));

  // Signed for its name at the remapped location, not for the name the caller asked for:
  // signedIdentity is checked against the caller's reference (containers/image), so it is refused.
  std::string refused = Bundle();
  EXPECT_THAT(Pull("old/wrongid:v1", refused).status(),
              StatusIs(absl::StatusCode::kPermissionDenied, "Image policy rejected: Denied by policy: "));
  EXPECT_FALSE(fs::exists(refused + "/config.json"));
}

TEST_F(RegistryMirrorTest, EveryLocationFailingGivesUpstreamsAggregateError) {
  const std::string o = origin_->host(), a = mirror_a_->host();
  auto r = Pull("gone/app:v1", Bundle());
  EXPECT_THAT(r.status(), StatusIs(absl::StatusCode::kNotFound,
                                   "Failed to pull image " + o +
                                       "/gone/app:v1 from all mirror/mapping locations or original location: "
                                       "image: " +
                                       a + "/gone/app:v1, error: "));
  EXPECT_THAT(r.status().message(), HasSubstr("\nimage: " + o + "/gone/app:v1, error: "));
}

}  // namespace
}  // namespace cdh::image
