// The scenario's image check end to end with real components: the real daemon binary
// (cc_kbc, `sample` attester standing in for the TEE this machine lacks) asked over ttrpc by
// `cdh-tool --ttrpc pull-image`, as the kata agent asks; kbs-dev holding the image policy, the
// cosign public key, the GPG key and the layer KEK at the scenario's paths; docker-registry on
// 127.0.0.1 with images built by umoci and pushed by skopeo, signed by cosign_sign.py (cosign's
// layout) and `skopeo --sign-by` (a throw-away GPG key), encrypted by ocicrypt_encrypt.py.
// Needs root (the rootfs is an overlay mount); skipped otherwise.
#include <sys/mount.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/time/clock.h"
#include "http/curl_http_client.h"
#include "kbs-dev/kbs_dev_server.h"
#include "tests/daemon_fixture.h"
#include "tests/image/registry_fixture.h"
#include "tests/test_util.h"

namespace cdh::testing {
namespace {

namespace fs = std::filesystem;

class PolicyDaemonE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (geteuid() != 0) {
      skip_ = "mounting the overlay rootfs needs root";
      return;
    }
    dir_ = new TempDir();
    const std::string d = dir_->path();
    auto registry = LocalRegistry::Start(d + "/registry", RegistryAuth::kNone);
    if (!registry.ok()) {
      skip_ = std::string(registry.status().message());
      return;
    }
    registry_ = registry->release();
    const std::string host = registry_->host();

    // Images: one built image under several names.
    ImageBuilder builder(d + "/build");
    WriteTreeFile(d + "/base", "etc/os-release", "NAME=fraud\n");
    WriteTreeFile(d + "/app", "app/score.sh", "#!/bin/sh\necho scored\n", 0755);
    ASSERT_TRUE(builder.Build("app", {{d + "/base", {}}, {d + "/app", {}}}, {"--config.cmd", "/app/score.sh"}).ok());
    for (const char* repo : {"signed/fraud-detection", "signed/unsigned", "plain/app", "other/app"}) {
      ASSERT_TRUE(builder.Push("app", host + "/" + repo + ":latest").ok());
    }
    Python({"cosign_sign.py", "keygen", d + "/cosign"});
    Python({"cosign_sign.py", "sign", "http://" + host, "signed/fraud-detection", "latest", d + "/cosign.key"});
    std::ofstream(d + "/kek", std::ios::binary) << std::string(32, '\x33');
    // The tampered image has layers of its own, so no cached plaintext twin can stand in for them.
    WriteTreeFile(d + "/secret", "app/model.bin", "weights\n");
    ASSERT_TRUE(builder.Build("secret", {{d + "/secret", {}}}).ok());
    Python({"ocicrypt_encrypt.py", "push", builder.layout(), "app", "http://" + host, "enc/app", "v1", "--kek",
            d + "/kek", "--kid", "kbs:///default/image-kek/1"});
    Python({"ocicrypt_encrypt.py", "push", builder.layout(), "secret", "http://" + host, "enc/secret", "tampered",
            "--kek", d + "/kek", "--kid", "kbs:///default/image-kek/1", "--tamper"});
    // signedBy: skopeo --sign-by with a throw-away GPG key into a lookaside directory.
    const std::string gnupg = d + "/gnupg";
    fs::create_directories(gnupg);
    fs::permissions(gnupg, fs::perms::owner_all);
    ASSERT_EQ(RunCommand({"/usr/bin/gpg", "--homedir", gnupg, "--batch", "--passphrase", "", "--quick-gen-key",
                          "CoCo Test <test@example.com>", "ed25519", "sign", "never"})
                  .exit_code,
              0);
    std::string colons =
        RunCommand({"/usr/bin/gpg", "--homedir", gnupg, "--batch", "--with-colons", "--list-keys"}).out;
    size_t at = colons.find("\nfpr:");
    ASSERT_THAT(colons, ::testing::HasSubstr("\nfpr:"));
    std::string line = colons.substr(at + 1, colons.find('\n', at + 1) - at - 1);
    line.pop_back();
    std::string fpr = line.substr(line.rfind(':') + 1);
    std::string gpg_pub = RunCommand({"/usr/bin/gpg", "--homedir", gnupg, "--batch", "--export"}).out;
    WriteTreeFile(d + "/regd", "local.yaml",
                  "docker:\n  " + host + ":\n    lookaside: file://" + d + "/sigs\n    lookaside-staging: file://" + d +
                      "/sigs\n");
    CommandResult sign =
        RunCommand({"/usr/bin/env", "GNUPGHOME=" + gnupg, "_CONTAINERS_ROOTLESS_UID=1", "XDG_DATA_HOME=" + d + "/xdg",
                    "/usr/bin/skopeo", "--registries.d", d + "/regd", "copy", "--dest-tls-verify=false", "--sign-by",
                    fpr, "oci:" + builder.layout() + ":app", "docker://" + host + "/gpg/app:latest"},
                   "", 300);
    RunCommand({"/usr/bin/gpgconf", "--homedir", gnupg, "--kill", "all"});
    ASSERT_EQ(sign.exit_code, 0) << sign.err;
    ASSERT_TRUE(builder.Push("app", host + "/gpg/unsigned:latest").ok());

    // The broker: the scenario's paths.
    kbsdev::KbsDevOptions options;
    options.resource_dir = d + "/kbs";
    options.insecure_admin = true;
    auto kbs = kbsdev::KbsDevServer::Start(options);
    ASSERT_TRUE(kbs.ok()) << kbs.status();
    kbs_ = kbs->release();
    const std::string policy = R"({"default":[{"type":"reject"}],"transports":{"docker":{
      ")" + host + R"(/signed":[{"type":"sigstoreSigned","keyPath":"kbs:///default/conf-devhub-signature/pub-key",
                                 "signedIdentity":{"type":"matchRepository"}}],
      ")" + host + R"(/gpg":[{"type":"signedBy","keyType":"GPGKeys","keyPath":"kbs:///default/gpg-key/pub"}],
      ")" + host + R"(/plain":[{"type":"insecureAcceptAnything"}],
      ")" + host + R"(/enc":[{"type":"insecureAcceptAnything"}]}}})";
    Upload("default/trustee-image-policy/policy", policy);
    Upload("default/conf-devhub-signature/pub-key", ReadFile(d + "/cosign.pub"));
    Upload("default/gpg-key/pub", gpg_pub);
    Upload("default/image-kek/1", std::string(32, '\x33'));

    // A registry configuration in the broker that would block the registry: the inline
    // [image.registry_config] below wins over registry_configuration_uri (image-rs config.rs).
    Upload("default/registry-configuration/blocking", "[[registry]]\nprefix = \"" + host + "\"\nblocked = true\n");
    // One that remaps <host>/remapped to <host>/plain, for a daemon configured only by the URI.
    Upload("default/registry-configuration/remap",
           "[[registry]]\nprefix = \"" + host + "/remapped\"\nlocation = \"" + host + "/plain\"\ninsecure = true\n");

    // The daemon, configured as the kata agent configures it from the pod's init data: the init
    // data document carries cdh.toml as data."cdh.toml"; the agent writes that string to a file
    // and starts CDH with `-c` on it (cdh-api.md §5.5). CDH never reads its configuration from the
    // init data itself; it reads the init data document only to bind its digest to the TEE and
    // send it to the broker (init_data_path).
    socket_ = d + "/run/cdh.sock";
    const std::string cdh_toml =
        "socket = \"unix://" + socket_ + "\"\ngrpc_socket = \"\"\n[kbc]\nname = \"cc_kbc\"\nurl = \"" + kbs_->url() +
        "\"\n[attestation]\ntee = \"sample\"\ninit_data_path = \"" + d + "/initdata/initdata.toml\"\n[paths]\n" +
        "base_dir = \"" + d +
        "/base-dir\"\n[image]\nimage_security_policy_uri = " + "\"kbs:///default/trustee-image-policy/policy\"\n" +
        "registry_configuration_uri = \"kbs:///default/registry-configuration/blocking\"\nwork_dir = \"" + d +
        "/work\"\nsigstore_config = \"\"\"\ndocker:\n  " + host + ":\n    sigstore: file://" + d +
        "/sigs\n\"\"\"\n[[image.registry_config.registry]]\nlocation = \"" + host + "\"\ninsecure = true\n";
    WriteTreeFile(d + "/initdata", "initdata.toml",
                  "version = \"0.1.0\"\nalgorithm = \"sha384\"\n[data]\n\"cdh.toml\" = '''\n" + cdh_toml + "'''\n");
    // What the agent does with it (kata-agent initdata.rs): data."cdh.toml" → cdh.toml.
    std::string config = WriteTreeFile(d + "/initdata", "cdh.toml", cdh_toml);
    daemon_ = new Daemon(config, d + "/daemon.log");
    ASSERT_TRUE(daemon_->WaitForSocket(socket_)) << ReadFile(d + "/daemon.log");
  }

  static void TearDownTestSuite() {
    for (const auto& b : bundles_) umount2((b + "/rootfs").c_str(), MNT_DETACH);
    delete daemon_;
    delete remap_daemon_;
    remap_daemon_ = nullptr;
    delete kbs_;
    delete registry_;
    delete dir_;
    daemon_ = nullptr;
    kbs_ = nullptr;
    registry_ = nullptr;
    dir_ = nullptr;
  }

  void SetUp() override {
    if (!skip_.empty()) GTEST_SKIP() << skip_;
    ASSERT_NE(daemon_, nullptr);
  }

  static void Python(std::vector<std::string> args) {
    args[0] = SourcePath("tests/image/" + args[0]);
    args.insert(args.begin(), "/usr/bin/python3");
    CommandResult r = RunCommand(args, "", 120);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  static void Upload(const std::string& path, const std::string& bytes) {
    auto http = http::CurlHttpClient::New({});
    ASSERT_TRUE(http.ok());
    auto r = (*http)->Send(
        {"POST", kbs_->url() + "/kbs/v0/resource/" + path, {{"Content-Type", "application/octet-stream"}}, bytes},
        absl::Now() + absl::Seconds(10));
    ASSERT_TRUE(r.ok() && r->status == 200) << path;
  }

  // `cdh-tool --ttrpc pull-image`, as the kata agent calls PullImage.
  CommandResult PullImage(const std::string& repo_and_tag, std::string* bundle, const std::string& socket = socket_) {
    *bundle = dir_->path() + "/bundle" + std::to_string(bundles_.size());
    bundles_.push_back(*bundle);
    fs::create_directories(*bundle);  // the agent creates the bundle directory
    return RunCommand({BinaryPath("tools/cdh-tool"), "--ttrpc", "--socket", "unix://" + socket, "--timeout", "120",
                       "pull-image", registry_->host() + "/" + repo_and_tag, *bundle},
                      "", 180);
  }

  void ExpectAllowed(const std::string& image, const std::string& file = "app/score.sh") {
    std::string bundle;
    CommandResult r = PullImage(image, &bundle);
    ASSERT_EQ(r.exit_code, 0) << image << ": " << r.err << ReadFile(dir_->path() + "/daemon.log");
    EXPECT_THAT(r.out, ::testing::StartsWith("sha256:"));
    EXPECT_EQ(ReadFile(bundle + "/rootfs/" + file), "#!/bin/sh\necho scored\n") << image;
  }

  void ExpectRefused(const std::string& image, const std::string& reason) {
    std::string bundle;
    CommandResult r = PullImage(image, &bundle);
    EXPECT_NE(r.exit_code, 0) << image;
    EXPECT_THAT(r.err, ::testing::HasSubstr(reason)) << image;
    EXPECT_FALSE(fs::exists(bundle + "/config.json")) << image;
    EXPECT_FALSE(fs::exists(bundle + "/rootfs/app/score.sh")) << image;
  }

  static inline TempDir* dir_ = nullptr;
  static inline LocalRegistry* registry_ = nullptr;
  static inline kbsdev::KbsDevServer* kbs_ = nullptr;
  static inline Daemon* daemon_ = nullptr;
  static inline Daemon* remap_daemon_ = nullptr;
  static inline std::string socket_;
  static inline std::string skip_;
  static inline std::vector<std::string> bundles_;
};

TEST_F(PolicyDaemonE2eTest, SigstoreSignedImageFromTheBrokersPolicyIsPulled) {
  uint64_t gets_before = kbs_->stats().resource_ok;
  ExpectAllowed("signed/fraud-detection:latest");
  // The attested session bound and sent the init data document (read for attestation only).
  EXPECT_THAT(ReadFile(dir_->path() + "/daemon.log"),
              ::testing::HasSubstr("init data: " + dir_->path() + "/initdata/initdata.toml"));
  // The policy and the cosign key came from the broker (at most once each: they are cached).
  EXPECT_LE(kbs_->stats().resource_ok - gets_before, 2u);
}

TEST_F(PolicyDaemonE2eTest, UnsignedImageIsRefusedWithThePolicysReason) {
  ExpectRefused("signed/unsigned:latest", "Image policy rejected: Denied by policy: ");
  ExpectRefused("signed/unsigned:latest", "no sigstore signature found");
}

TEST_F(PolicyDaemonE2eTest, SignedByImageIsPulledAndAnUnsignedOneRefused) {
  ExpectAllowed("gpg/app:latest");
  ExpectRefused("gpg/unsigned:latest", "`signedBy` requirement");
}

TEST_F(PolicyDaemonE2eTest, InsecureAcceptAnythingAndDefaultReject) {
  ExpectAllowed("plain/app:latest");
  ExpectRefused("other/app:latest", "Policy `reject` rejects image");
}

TEST_F(PolicyDaemonE2eTest, EncryptedImageIsPulledWithTheBrokersKek) { ExpectAllowed("enc/app:v1", "app/score.sh"); }

TEST_F(PolicyDaemonE2eTest, TamperedEncryptedImageFailsWithNoFilesLeft) {
  ExpectRefused("enc/secret:tampered", "HMAC");
  EXPECT_FALSE(fs::exists(bundles_.back() + "/rootfs/app/model.bin"));
  // No layer directory holds the tampered layer's file.
  for (const auto& e : fs::recursive_directory_iterator(dir_->path() + "/work")) {
    EXPECT_NE(e.path().filename(), "model.bin") << e.path();
  }
}

TEST_F(PolicyDaemonE2eTest, InlineRegistryConfigWinsOverTheBrokersRegistryConfiguration) {
  // The daemon's registry_configuration_uri names a configuration that blocks the registry; the
  // inline table is the one applied, so pulls work (every test above shows it too).
  ExpectAllowed("plain/app:latest");
  EXPECT_THAT(ReadFile(dir_->path() + "/daemon.log"), ::testing::Not(::testing::HasSubstr("blocked by registry rule")));
}

TEST_F(PolicyDaemonE2eTest, RegistryConfigurationFromTheBrokerRemapsALocation) {
  // A second daemon whose only registry configuration is a kbs:/// URI (no inline table, no
  // policy): it fetches the configuration from kbs-dev in-process and pulls <host>/remapped/app
  // from <host>/plain/app over plain HTTP.
  const std::string d = dir_->path() + "/remap";
  const std::string socket = d + "/run/cdh.sock";
  std::string config =
      WriteTreeFile(d, "cdh.toml",
                    "socket = \"unix://" + socket + "\"\ngrpc_socket = \"\"\n[kbc]\nname = \"cc_kbc\"\nurl = \"" +
                        kbs_->url() + "\"\n[attestation]\ntee = \"sample\"\ninit_data_path = \"" + d +
                        "/no-initdata.toml\"\n[paths]\n" + "base_dir = \"" + d + "/base-dir\"\n[image]\nwork_dir = \"" +
                        d + "/work\"\nregistry_configuration_uri = \"kbs:///default/registry-configuration/remap\"\n");
  remap_daemon_ = new Daemon(config, d + "/daemon.log");
  ASSERT_TRUE(remap_daemon_->WaitForSocket(socket)) << ReadFile(d + "/daemon.log");
  std::string bundle;
  CommandResult r = PullImage("remapped/app:latest", &bundle, socket);
  ASSERT_EQ(r.exit_code, 0) << r.err << ReadFile(d + "/daemon.log");
  EXPECT_EQ(ReadFile(bundle + "/rootfs/app/score.sh"), "#!/bin/sh\necho scored\n");
  EXPECT_THAT(ReadFile(d + "/daemon.log"), ::testing::HasSubstr("(remapped location)"));
}

TEST_F(PolicyDaemonE2eTest, PolicyInForceIsLoggedOncePerDaemon) {
  ExpectAllowed("plain/app:latest");
  ExpectAllowed("plain/app:latest");
  const std::string log = ReadFile(dir_->path() + "/daemon.log");
  size_t lines = 0;
  for (size_t at = log.find("policy in force"); at != std::string::npos; at = log.find("policy in force", at + 1)) {
    ++lines;
  }
  EXPECT_EQ(lines, 1u) << log;
}

}  // namespace
}  // namespace cdh::testing
