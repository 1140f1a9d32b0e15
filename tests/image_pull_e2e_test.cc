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

#include <gtest/gtest.h>

#include "absl/strings/escaping.h"
#include "tests/daemon_fixture.h"
#include "tests/image/registry_fixture.h"
#include "tests/test_util.h"

namespace cdh::testing {
namespace {

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
  EXPECT_NE(ReadFile(bundle + "/config.json").find("/app/run.sh"), std::string::npos);

  // The same handler over gRPC; the layers come from the cache.
  std::string bundle2 = dir_.path() + "/run/kata-containers/c2";
  CommandResult g = Pull(image_, bundle2, /*ttrpc=*/false);
  ASSERT_EQ(g.exit_code, 0) << g.err;
  EXPECT_EQ(g.out, expected_digest_ + "\n");
  EXPECT_EQ(ReadFile(bundle2 + "/rootfs/app/run.sh"), "#!/bin/sh\necho fraud-detection\n");

  // Credentials never reach the log.
  std::string log = ReadFile(log_);
  EXPECT_EQ(log.find(LocalRegistry::kPassword), std::string::npos);
  std::string creds = LocalRegistry::Creds();
  EXPECT_EQ(log.find(absl::Base64Escape(absl::string_view(creds.data(), creds.size()))), std::string::npos);
}

TEST_F(ImagePullE2eTest, ErrorsCarryTheirCodes) {
  CommandResult missing = Pull(registry_->host() + "/signed/fraud-detection:nope", dir_.path() + "/b1");
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("NOT_FOUND"), std::string::npos) << missing.err;
  EXPECT_NE(missing.err.find("Image Pull error"), std::string::npos) << missing.err;
  CommandResult malformed = Pull("UPPER/case", dir_.path() + "/b2");
  EXPECT_NE(malformed.err.find("INVALID_ARGUMENT"), std::string::npos) << malformed.err;
  CommandResult unreachable = Pull("127.0.0.1:1/x/y:z", dir_.path() + "/b3");
  EXPECT_NE(unreachable.err.find("UNAVAILABLE"), std::string::npos) << unreachable.err;
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/b1/config.json"));
}

}  // namespace
}  // namespace cdh::testing
