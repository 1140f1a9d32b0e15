// End-to-end PullImage through the real daemon binary, over ttrpc (as the kata agent calls it)
// and gRPC, driven by the real cdh-tool: a docker-registry with htpasswd basic auth on
// 127.0.0.1, an image built with umoci and pushed with skopeo, and the registry credentials
// (auth.json) served as kbs:///default/credential/test by offline_fs_kbc, so the daemon fetches
// them in-process while it serves the pull. Mounting the overlay rootfs needs root: the test
// skips without it.
#include <sys/mount.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/escaping.h"
#include "tests/daemon_fixture.h"
#include "tests/image/registry_fixture.h"
#include "tests/test_util.h"

namespace cdh::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class ImagePullE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "mounting the overlay rootfs needs root";
    auto reg = LocalRegistry::Start(dir_.path() + "/reg", RegistryAuth::kHtpasswd);
    ASSERT_TRUE(reg.ok()) << reg.status();
    registry_ = std::move(*reg);
    WriteTreeFile(dir_.path() + "/src", "app/run.sh", "#!/bin/sh\necho fraud-detection\n", 0755);
    ImageBuilder builder(dir_.path() + "/build");
    ASSERT_TRUE(builder.Build("app", {{dir_.path() + "/src", {}}}, {"--config.cmd", "/app/run.sh"}).ok());
    image_ = registry_->host() + "/signed/fraud-detection:latest";
    ASSERT_TRUE(builder.Push("app", image_, {"--dest-creds", LocalRegistry::Creds()}).ok());
    auto inspect = builder.Skopeo({"inspect", "--tls-verify=false", "--creds", LocalRegistry::Creds(), "--format",
                                   "{{.Digest}}", "docker://" + image_});
    ASSERT_TRUE(inspect.ok()) << inspect.status();
    expected_digest_ = inspect->substr(0, inspect->find('\n'));

    std::string auth = registry_->AuthJson();
    std::string resources =
        "{\"default/credential/test\":\"" + absl::Base64Escape(absl::string_view(auth.data(), auth.size())) + "\"}";
    std::string res = dir_.Write("resources.json", resources);
    ttrpc_ = dir_.path() + "/run/cdh.sock";
    grpc_ = dir_.path() + "/run/cdh-grpc.sock";
    std::string config = dir_.Write(
        "cdh.toml", "socket = \"unix://" + ttrpc_ + "\"\ngrpc_socket = \"unix://" + grpc_ + "\"\n" +
                        "[kbc]\nname = \"offline_fs_kbc\"\n[offline_fs_kbc]\nresource_files = [\"" + res + "\"]\n" +
                        "[paths]\nbase_dir = \"" + dir_.path() + "/base\"\n" + "[image]\nwork_dir = \"" + dir_.path() +
                        "/work\"\nauthenticated_registry_credentials_uri = \"kbs:///default/credential/test\"\n" +
                        "[[image.registry_config.registry]]\nlocation = \"" + registry_->host() +
                        "\"\ninsecure = true\n");
    log_ = dir_.path() + "/daemon.log";
    daemon_ = std::make_unique<Daemon>(config, log_);
    ASSERT_TRUE(daemon_->WaitForSocket(ttrpc_)) << ReadFile(log_);
  }

  void TearDown() override {
    for (const auto& b : bundles_) umount2((b + "/rootfs").c_str(), MNT_DETACH);
    if (daemon_ && daemon_->Running()) {
      daemon_->Signal(SIGTERM);
      daemon_->Wait(absl::Seconds(30));
    }
  }

  CommandResult Pull(const std::string& image, const std::string& bundle, bool ttrpc = true) {
    bundles_.push_back(bundle);
    std::vector<std::string> argv = {BinaryPath("tools/cdh-tool")};
    if (ttrpc) {
      argv.insert(argv.end(), {"--ttrpc", "--socket", "unix://" + ttrpc_});
    } else {
      argv.insert(argv.end(), {"--socket", "unix://" + grpc_});
    }
    argv.insert(argv.end(), {"--timeout", "1200", "pull-image", image, bundle});
    return RunCommand(argv, "", 300);
  }

  TempDir dir_;
  std::unique_ptr<LocalRegistry> registry_;
  std::unique_ptr<Daemon> daemon_;
  std::string image_, expected_digest_, ttrpc_, grpc_, log_;
  std::vector<std::string> bundles_;
};

TEST_F(ImagePullE2eTest, PullsOverTtrpcAndGrpcWithCredentialsFromTheBroker) {
  std::string bundle = dir_.path() + "/run/kata-containers/c1";
  CommandResult r = Pull(image_, bundle);
  ASSERT_EQ(r.exit_code, 0) << r.err << ReadFile(log_);
  EXPECT_EQ(r.out, expected_digest_ + "\n");
  EXPECT_EQ(ReadFile(bundle + "/rootfs/app/run.sh"), "#!/bin/sh\necho fraud-detection\n");
  EXPECT_THAT(ReadFile(bundle + "/config.json"), HasSubstr("/app/run.sh"));

  // The same handler over gRPC; the layers come from the cache.
  std::string bundle2 = dir_.path() + "/run/kata-containers/c2";
  CommandResult g = Pull(image_, bundle2, /*ttrpc=*/false);
  ASSERT_EQ(g.exit_code, 0) << g.err;
  EXPECT_EQ(g.out, expected_digest_ + "\n");
  EXPECT_EQ(ReadFile(bundle2 + "/rootfs/app/run.sh"), "#!/bin/sh\necho fraud-detection\n");

  // Credentials never reach the log.
  std::string log = ReadFile(log_);
  EXPECT_THAT(log, Not(HasSubstr(LocalRegistry::kPassword)));
  std::string creds = LocalRegistry::Creds();
  EXPECT_THAT(log, Not(HasSubstr(absl::Base64Escape(absl::string_view(creds.data(), creds.size())))));
}

TEST_F(ImagePullE2eTest, ErrorsCarryTheirCodes) {
  CommandResult missing = Pull(registry_->host() + "/signed/fraud-detection:nope", dir_.path() + "/b1");
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_THAT(missing.err, HasSubstr("NOT_FOUND")) << missing.err;
  EXPECT_THAT(missing.err, HasSubstr("Image Pull error")) << missing.err;
  CommandResult malformed = Pull("UPPER/case", dir_.path() + "/b2");
  EXPECT_THAT(malformed.err, HasSubstr("INVALID_ARGUMENT")) << malformed.err;
  CommandResult unreachable = Pull("127.0.0.1:1/x/y:z", dir_.path() + "/b3");
  EXPECT_THAT(unreachable.err, HasSubstr("UNAVAILABLE")) << unreachable.err;
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/b1/config.json"));
}

// An HTTPS registry whose certificate a throw-away test CA issued (openssl, made by the test):
// trusted through `[image] extra_root_certificates` (image-pull spec §2.1, §3.7), and refused
// without it. No `insecure` entry: the registry is reached over HTTPS, as every registry is by
// default.
class ImagePullTlsE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (geteuid() != 0) return;
    dir_ = new TempDir();
    auto tls = MakeTestTls(dir_->path() + "/tls");
    ASSERT_TRUE(tls.ok()) << tls.status();
    ca_pem_ = tls->ca_pem;
    auto reg = LocalRegistry::Start(dir_->path() + "/reg", RegistryAuth::kNone, &*tls);
    ASSERT_TRUE(reg.ok()) << reg.status();
    registry_ = reg->release();
    WriteTreeFile(dir_->path() + "/src", "app/run.sh", "#!/bin/sh\necho over tls\n", 0755);
    ImageBuilder builder(dir_->path() + "/build");
    ASSERT_TRUE(builder.Build("app", {{dir_->path() + "/src", {}}}).ok());
    image_ = registry_->host() + "/tls/app:v1";
    ASSERT_TRUE(builder.Push("app", image_).ok());
  }
  static void TearDownTestSuite() {
    delete registry_;
    delete dir_;
    registry_ = nullptr;
    dir_ = nullptr;
  }

  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "mounting the overlay rootfs needs root";
    ASSERT_NE(registry_, nullptr);
  }
  void TearDown() override {
    for (const auto& b : bundles_) umount2((b + "/rootfs").c_str(), MNT_DETACH);
    if (daemon_ && daemon_->Running()) {
      daemon_->Signal(SIGTERM);
      daemon_->Wait(absl::Seconds(30));
    }
  }

  // Starts the daemon with `[image] extra_root_certificates` = the test CA, or none.
  void StartDaemon(bool trust_test_ca) {
    socket_ = tmp_.path() + "/run/cdh.sock";
    std::string image = "[image]\nwork_dir = \"" + tmp_.path() + "/work\"\n";
    if (trust_test_ca) image += "extra_root_certificates = ['''\n" + ca_pem_ + "''']\n";
    std::string config = tmp_.Write("cdh.toml", "socket = \"unix://" + socket_ +
                                                    "\"\ngrpc_socket = \"\"\n[kbc]\nname = \"offline_fs_kbc\"\n"
                                                    "[paths]\nbase_dir = \"" +
                                                    tmp_.path() + "/base\"\n" + image);
    log_ = tmp_.path() + "/daemon.log";
    daemon_ = std::make_unique<Daemon>(config, log_);
    ASSERT_TRUE(daemon_->WaitForSocket(socket_)) << ReadFile(log_);
  }

  CommandResult Pull(const std::string& bundle) {
    bundles_.push_back(bundle);
    return RunCommand({BinaryPath("tools/cdh-tool"), "--ttrpc", "--socket", "unix://" + socket_, "--timeout", "300",
                       "pull-image", image_, bundle},
                      "", 300);
  }

  static inline TempDir* dir_ = nullptr;
  static inline LocalRegistry* registry_ = nullptr;
  static inline std::string ca_pem_, image_;
  TempDir tmp_;
  std::unique_ptr<Daemon> daemon_;
  std::string socket_, log_;
  std::vector<std::string> bundles_;
};

TEST_F(ImagePullTlsE2eTest, ExtraRootCertificateLetsThePullVerifyTheRegistry) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon(/*trust_test_ca=*/true));
  std::string bundle = tmp_.path() + "/bundle";
  CommandResult r = Pull(bundle);
  ASSERT_EQ(r.exit_code, 0) << r.err << ReadFile(log_);
  EXPECT_THAT(r.out, ::testing::StartsWith("sha256:"));
  EXPECT_EQ(ReadFile(bundle + "/rootfs/app/run.sh"), "#!/bin/sh\necho over tls\n");
}

TEST_F(ImagePullTlsE2eTest, WithoutTheCaThePullFailsNamingTlsVerification) {
  ASSERT_NO_FATAL_FAILURE(StartDaemon(/*trust_test_ca=*/false));
  std::string bundle = tmp_.path() + "/bundle";
  CommandResult r = Pull(bundle);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, ::testing::HasSubstr("UNAVAILABLE"));
  EXPECT_THAT(r.err, ::testing::HasSubstr("TLS verification of https://" + image_.substr(0, image_.find('/')) +
                                          "/v2/tls/app/manifests/v1 failed; check [image] extra_root_certificates"));
  EXPECT_FALSE(std::filesystem::exists(bundle + "/config.json"));
}

}  // namespace
}  // namespace cdh::testing
