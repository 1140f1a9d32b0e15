// ImagePuller end to end below the daemon: a real docker-registry on 127.0.0.1, images built with
// umoci and pushed with skopeo (tests/image/registry_fixture.h), the real HTTP client, layer
// cache and overlay mount. Mounting an overlay needs root: the tests skip cleanly without it.
#include "image/image_puller.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/time/clock.h"
#include "common/testing/status_matchers.h"
#include "http/curl_http_client.h"
#include "image/registry_config.h"
#include "tests/image/registry_fixture.h"
#include "tests/test_util.h"

namespace cdh::image {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::ImageBuilder;
using testing::IsOk;
using testing::LocalRegistry;
using testing::RegistryAuth;
using testing::StatusIs;

// Refuses every image, counting the calls (stands in for a policy; image/policy/ has the real one).
class DenyAll : public ImageVerifier {
 public:
  absl::Status Verify(const ImageReference& ref, const Digest&, RegistryClient&, const CallContext&) override {
    ++calls;
    return absl::PermissionDeniedError("Image policy rejected: Denied by policy: rejected by test");
  }
  int calls = 0;
};

class RecordingMeasurer : public PullMeasurer {
 public:
  absl::Status RecordPull(std::string_view image, const Digest& digest) override {
    events.push_back(std::string(image) + " " + digest.String());
    return absl::OkStatus();
  }
  std::vector<std::string> events;
};

// One registry for the suite: each test builds its own images (its own layout and content) and
// pulls them into its own work directory, so the tests share nothing but the registry process.
class ImagePullerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (geteuid() != 0) return;
    registry_dir_ = new testing::TempDir();
    auto reg = LocalRegistry::Start(registry_dir_->path() + "/reg", RegistryAuth::kNone);
    ASSERT_TRUE(reg.ok()) << reg.status();
    registry_ = reg->release();
  }
  static void TearDownTestSuite() {
    delete registry_;
    delete registry_dir_;
    registry_ = nullptr;
    registry_dir_ = nullptr;
  }

  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "mounting the overlay rootfs needs root";
    ASSERT_NE(registry_, nullptr);
    auto http = http::CurlHttpClient::New({});
    ASSERT_TRUE(http.ok());
    http_ = std::move(*http);
    RegistryConfig config;
    config.registries.push_back(RegistryEntry{"", registry_->host(), true, false, {}});
    factory_ = std::make_unique<DefaultRegistryClientFactory>(*http_, config, nullptr);
    ASSERT_TRUE(MakePuller(verifier_).ok());

    base_ = tmp_.path() + "/base";
    testing::WriteTreeFile(base_, "etc/os-release", "NAME=test\n");
    testing::WriteTreeFile(base_, "etc/obsolete", "to be deleted\n");
    testing::WriteTreeFile(base_, "bin/run.sh", "#!/bin/sh\necho hi\n", 0755);
    app_ = tmp_.path() + "/app";
    testing::WriteTreeFile(app_, "app/data.txt", "app layer\n");
  }

  void TearDown() override {
    for (const auto& b : bundles_) umount2((b + "/rootfs").c_str(), MNT_DETACH);
  }

  absl::Status MakePuller(ImageVerifier& verifier) {
    ImagePullerOptions options;
    options.work_dir = tmp_.path() + "/work";
    auto p = ImagePuller::New(options, *factory_, verifier, decryptor_, &measurer_);
    if (!p.ok()) return p.status();
    puller_ = std::move(*p);
    return absl::OkStatus();
  }

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

  static inline testing::TempDir* registry_dir_ = nullptr;
  static inline LocalRegistry* registry_ = nullptr;
  testing::TempDir tmp_;
  std::unique_ptr<http::CurlHttpClient> http_;
  std::unique_ptr<DefaultRegistryClientFactory> factory_;
  AllowAllImageVerifier verifier_;
  RefuseEncryptedLayerDecryptor decryptor_;
  RecordingMeasurer measurer_;
  std::unique_ptr<ImagePuller> puller_;
  ImageBuilder builder_{tmp_.path() + "/build"};
  std::string base_, app_;
  std::vector<std::string> bundles_;
};

TEST_F(ImagePullerTest, PullsLayersWithWhiteoutsIntoAnOverlayRootfs) {
  ASSERT_TRUE(builder_.Build("app", {{base_, {}}, {app_, {"etc/obsolete"}}}, {"--config.cmd", "/bin/run.sh"}).ok());
  std::string image = registry_->host() + "/test/app:v1";
  ASSERT_TRUE(builder_.Push("app", image).ok());
  std::string bundle = Bundle();
  auto digest = Pull(image, bundle);
  ASSERT_TRUE(digest.ok()) << digest.status();
  EXPECT_TRUE(digest->starts_with("sha256:"));
  EXPECT_EQ(testing::ReadFile(bundle + "/rootfs/etc/os-release"), "NAME=test\n");
  EXPECT_EQ(testing::ReadFile(bundle + "/rootfs/app/data.txt"), "app layer\n");
  EXPECT_FALSE(fs::exists(bundle + "/rootfs/etc/obsolete")) << "the whiteout hides the lower file";
  struct stat st;
  ASSERT_EQ(stat((bundle + "/rootfs/bin/run.sh").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0755u);
  std::string config = testing::ReadFile(bundle + "/config.json");
  EXPECT_THAT(config, HasSubstr("/bin/run.sh"));
  EXPECT_EQ(puller_->layers_downloaded(), 2) << "base and app";
  ASSERT_EQ(measurer_.events.size(), 1u);
  EXPECT_EQ(measurer_.events[0], image + " " + *digest);
  // The digest is the one skopeo reports for the tag.
  auto inspect = builder_.Skopeo({"inspect", "--tls-verify=false", "--format", "{{.Digest}}", "docker://" + image});
  ASSERT_TRUE(inspect.ok());
  EXPECT_EQ(inspect->substr(0, inspect->find('\n')), *digest);
}

TEST_F(ImagePullerTest, SecondPullDownloadsOnlyNewLayersAndConcurrentPullsShare) {
  ASSERT_TRUE(builder_.Build("v1", {{base_, {}}}).ok());
  ASSERT_TRUE(builder_.Build("v2", {{base_, {}}, {app_, {}}}).ok());
  ASSERT_TRUE(builder_.Push("v1", registry_->host() + "/test/app:v1").ok());
  ASSERT_TRUE(builder_.Push("v2", registry_->host() + "/test/app:v2").ok());
  ASSERT_TRUE(Pull(registry_->host() + "/test/app:v1", Bundle()).ok());
  int64_t after_v1 = puller_->layers_downloaded();
  // v2 shares v1's layers: only the app layer is new.
  std::string b2 = Bundle();
  ASSERT_TRUE(Pull(registry_->host() + "/test/app:v2", b2).ok());
  EXPECT_EQ(puller_->layers_downloaded(), after_v1 + 1);
  EXPECT_EQ(testing::ReadFile(b2 + "/rootfs/app/data.txt"), "app layer\n");
  // Two concurrent pulls of a new image share one download per layer.
  testing::WriteTreeFile(tmp_.path() + "/v3", "v3.txt", "three\n");
  ASSERT_TRUE(builder_.Build("v3", {{tmp_.path() + "/v3", {}}}).ok());
  ASSERT_TRUE(builder_.Push("v3", registry_->host() + "/test/app:v3").ok());
  int64_t before = puller_->layers_downloaded();
  std::string ba = Bundle(), bb = Bundle();
  absl::StatusOr<std::string> ra, rb;
  std::thread ta([&] { ra = Pull(registry_->host() + "/test/app:v3", ba); });
  std::thread tb([&] { rb = Pull(registry_->host() + "/test/app:v3", bb); });
  ta.join();
  tb.join();
  ASSERT_TRUE(ra.ok()) << ra.status();
  ASSERT_TRUE(rb.ok()) << rb.status();
  EXPECT_EQ(*ra, *rb);
  EXPECT_EQ(puller_->layers_downloaded(), before + 1) << "the new layer is fetched once";
  EXPECT_EQ(testing::ReadFile(bb + "/rootfs/v3.txt"), "three\n");
}

TEST_F(ImagePullerTest, CorruptedCacheEntryIsDetectedAndFetchedAgain) {
  ASSERT_TRUE(builder_.Build("app", {{base_, {}}}).ok());
  std::string image = registry_->host() + "/test/app:v1";
  ASSERT_TRUE(builder_.Push("app", image).ok());
  ASSERT_TRUE(Pull(image, Bundle()).ok());
  int64_t first = puller_->layers_downloaded();
  // Truncate a file inside the cached layer.
  bool damaged = false;
  for (const auto& e : fs::recursive_directory_iterator(tmp_.path() + "/work/layers")) {
    if (e.path().filename() == "os-release") {
      std::ofstream(e.path(), std::ios::trunc) << "";
      damaged = true;
    }
  }
  ASSERT_TRUE(damaged);
  std::string bundle = Bundle();
  ASSERT_TRUE(Pull(image, bundle).ok());
  EXPECT_EQ(puller_->layers_downloaded(), first + 1);
  EXPECT_EQ(puller_->layer_store().corrupted_entries_removed(), 1);
  EXPECT_EQ(testing::ReadFile(bundle + "/rootfs/etc/os-release"), "NAME=test\n");
}

TEST_F(ImagePullerTest, PolicyDenialStopsBeforeAnyLayerEvenWhenCached) {
  ASSERT_TRUE(builder_.Build("app", {{base_, {}}}).ok());
  std::string image = registry_->host() + "/test/app:v1";
  ASSERT_TRUE(builder_.Push("app", image).ok());
  ASSERT_TRUE(Pull(image, Bundle()).ok());  // cached now
  DenyAll deny;
  ASSERT_TRUE(MakePuller(deny).ok());
  std::string bundle = Bundle();
  auto r = Pull(image, bundle);
  EXPECT_THAT(r.status(), StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("Image policy rejected: Denied by policy"));
  EXPECT_EQ(deny.calls, 1);
  EXPECT_EQ(puller_->layers_downloaded(), 0);
  EXPECT_FALSE(IsMounted(bundle + "/rootfs"));
  EXPECT_FALSE(fs::exists(bundle + "/config.json"));
}

TEST_F(ImagePullerTest, TamperedLayerFailsWithNothingPublished) {
  // Content of its own, so no other test's image shares the blob flipped below.
  testing::WriteTreeFile(tmp_.path() + "/tampered", "only/here.txt", "tampered " + tmp_.path() + "\n");
  ASSERT_TRUE(builder_.Build("app", {{tmp_.path() + "/tampered", {}}}).ok());
  std::string image = registry_->host() + "/test/tampered:v1";
  ASSERT_TRUE(builder_.Push("app", image).ok());
  // Flip a byte in the middle of the image's layer blob as the registry stores it.
  auto raw = builder_.Skopeo({"inspect", "--raw", "--tls-verify=false", "docker://" + image});
  ASSERT_THAT(raw.status(), IsOk());
  auto manifest = ParseImageManifest(*raw);
  ASSERT_THAT(manifest.status(), IsOk());
  ASSERT_EQ(manifest->layers.size(), 1u);
  std::string hex = manifest->layers[0].digest.String().substr(7);
  std::string blob =
      registry_dir_->path() + "/reg/data/docker/registry/v2/blobs/sha256/" + hex.substr(0, 2) + "/" + hex + "/data";
  std::string content = testing::ReadFile(blob);
  ASSERT_GT(content.size(), 100u);
  content[content.size() / 2] ^= 0x20;
  std::ofstream(blob, std::ios::binary | std::ios::trunc) << content;
  std::string bundle = Bundle();
  auto r = Pull(image, bundle);
  EXPECT_THAT(r.status(), StatusIs(absl::StatusCode::kDataLoss)) << r.status();
  EXPECT_FALSE(IsMounted(bundle + "/rootfs"));
  EXPECT_FALSE(fs::exists(bundle + "/config.json"));
  EXPECT_TRUE(fs::is_empty(tmp_.path() + "/work/staging")) << "no staging directory is left behind";
  size_t published = 0;
  for (const auto& e : fs::directory_iterator(tmp_.path() + "/work/layers")) {
    (void)e;
    ++published;
  }
  EXPECT_EQ(published, 0u) << "the only layer was tampered with";
}

TEST_F(ImagePullerTest, DockerSchema2AndZstdLayers) {
  ASSERT_TRUE(builder_.Build("app", {{base_, {}}, {app_, {}}}).ok());
  std::string v2s2 = registry_->host() + "/test/docker:v1";
  ASSERT_TRUE(builder_.Push("app", v2s2, {"--format", "v2s2"}).ok());
  std::string b1 = Bundle();
  ASSERT_TRUE(Pull(v2s2, b1).ok());
  EXPECT_EQ(testing::ReadFile(b1 + "/rootfs/app/data.txt"), "app layer\n");
  // zstd needs uncompressed input for skopeo to recompress (image-pull spec §9.4).
  std::string plain = tmp_.path() + "/plain";
  ASSERT_TRUE(builder_.Skopeo({"copy", "--dest-decompress", "oci:" + builder_.layout() + ":app", "dir:" + plain}).ok());
  std::string zst = registry_->host() + "/test/zst:v1";
  ASSERT_TRUE(builder_
                  .Skopeo({"copy", "--dest-tls-verify=false", "--dest-compress-format", "zstd", "dir:" + plain,
                           "docker://" + zst})
                  .ok());
  std::string b2 = Bundle();
  auto r = Pull(zst, b2);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(testing::ReadFile(b2 + "/rootfs/etc/os-release"), "NAME=test\n");
}

TEST_F(ImagePullerTest, MultiArchIndexYieldsTheHostPlatformAndItsManifestDigest) {
  // Two single-platform images under one index; the other platform is listed first, so the choice
  // is made by platform, not by position.
  const Platform host = HostPlatform();
  const std::string other_arch = host.architecture == "amd64" ? "arm64" : "amd64";
  testing::WriteTreeFile(tmp_.path() + "/host-tree", "arch.txt", host.architecture + "\n");
  testing::WriteTreeFile(tmp_.path() + "/other-tree", "arch.txt", other_arch + "\n");
  ASSERT_THAT(builder_.Build("host", {{tmp_.path() + "/host-tree", {}}}), IsOk());
  ASSERT_THAT(builder_.Build("other", {{tmp_.path() + "/other-tree", {}}}), IsOk());
  auto index_digest =
      builder_.BuildIndex("multi", {{"other", "linux/" + other_arch}, {"host", "linux/" + host.architecture}});
  ASSERT_THAT(index_digest.status(), IsOk());
  auto host_digest = builder_.ManifestDigest("host");
  ASSERT_THAT(host_digest.status(), IsOk());
  std::string image = registry_->host() + "/test/multi:v1";
  ASSERT_THAT(builder_.Push("multi", image, {"--all"}), IsOk());
  // The registry serves the index for the tag.
  auto tag_digest = builder_.Skopeo({"inspect", "--raw", "--tls-verify=false", "docker://" + image});
  ASSERT_THAT(tag_digest.status(), IsOk());
  EXPECT_THAT(*tag_digest, HasSubstr("\"" + other_arch + "\""));

  std::string bundle = Bundle();
  auto digest = Pull(image, bundle);
  ASSERT_THAT(digest.status(), IsOk());
  EXPECT_EQ(testing::ReadFile(bundle + "/rootfs/arch.txt"), host.architecture + "\n");
  // manifest_digest is the platform manifest actually unpacked, as upstream replies (image-pull
  // spec §1.1), not the index the tag resolves to; the runtime measurement records the same.
  EXPECT_EQ(*digest, *host_digest);
  EXPECT_NE(*digest, *index_digest);
  ASSERT_EQ(measurer_.events.size(), 1u);
  EXPECT_EQ(measurer_.events[0], image + " " + *host_digest);
}

TEST_F(ImagePullerTest, ErrorCodes) {
  ASSERT_TRUE(builder_.Build("app", {{base_, {}}}).ok());
  ASSERT_TRUE(builder_.Push("app", registry_->host() + "/test/app:v1").ok());
  auto missing = Pull(registry_->host() + "/test/app:nope", Bundle());
  EXPECT_THAT(missing.status(), StatusIs(absl::StatusCode::kNotFound)) << missing.status();
  EXPECT_THAT(Pull("Not/A/Valid:ref:x", Bundle()).status(), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Pull(registry_->host() + "/test/app:v1", "relative/bundle").status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Pull("127.0.0.1:1/test/app:v1", Bundle()).status(), StatusIs(absl::StatusCode::kUnavailable));
  // An existing config.json is refused before anything is mounted.
  std::string bundle = Bundle();
  testing::WriteTreeFile(bundle, "config.json", "{}");
  auto exists = Pull(registry_->host() + "/test/app:v1", bundle);
  EXPECT_THAT(exists.status(), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_FALSE(IsMounted(bundle + "/rootfs"));
  // An expired deadline.
  auto late = puller_->Pull(registry_->host() + "/test/app:v1", Bundle(), CallContext{absl::Now() - absl::Seconds(1)});
  EXPECT_THAT(late.status(), StatusIs(absl::StatusCode::kDeadlineExceeded)) << late.status();
}

}  // namespace
}  // namespace cdh::image
