#include "daemon/config.h"

#include "common/testing/status_matchers.h"
#include "daemon/composition.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cdh {
namespace {

using ::cdh::testing::IsOk;
using ::cdh::testing::StatusIs;

// The daemon's own plugin names: the KBC registry and the attesters of this build.
absl::StatusOr<CdhConfig> LoadConfig(const ConfigSources& sources) {
  return cdh::LoadConfig(sources, BuiltinPlugins());
}

ConfigSources File(const std::string& path, const std::string& text) {
  ConfigSources s;
  s.file_path = path;
  s.file_text = text;
  return s;
}

bool HasWarning(const CdhConfig& c, std::string_view part) {
  for (const auto& w : c.warnings) {
    if (w.find(part) != std::string::npos) return true;
  }
  return false;
}

void ExpectInvalid(const ConfigSources& s, std::string_view names) {
  EXPECT_THAT(LoadConfig(s), StatusIs(absl::StatusCode::kInvalidArgument, std::string(names)));
}

// One documented precedence (daemon/config.h).
TEST(ConfigPrecedenceTest, NothingAtAllGivesOfflineDefaults) {
  auto c = LoadConfig(ConfigSources{});
  ASSERT_THAT(c, IsOk());
  EXPECT_EQ(c->kbc.name, "offline_fs_kbc");
  EXPECT_EQ(c->kbc.url, std::nullopt);
  EXPECT_EQ(c->socket.uri(), kDefaultTtrpcSocket);
  EXPECT_EQ(c->grpc_socket, std::nullopt);  // gRPC only when configured
  EXPECT_EQ(c->log_level, spdlog::level::info);
  EXPECT_EQ(c->attestation.tee, std::nullopt);
  EXPECT_EQ(c->attestation.paths.tpm_ak_handle, attestation::TeePaths{}.tpm_ak_handle);
  EXPECT_EQ(c->attestation.init_data_path, attestation::kDefaultInitDataPath);
  EXPECT_EQ(c->SealedSecretKeyDir(), "/run/confidential-containers/cdh/sealed-secret");
  EXPECT_EQ(c->offline_fs_files.size(), 2u);
  EXPECT_EQ(c->secure_mount_data_path, DataPathChoice::kAuto);
}

TEST(ConfigPrecedenceTest, FileWinsOverEnvironmentAndCmdline) {
  ConfigSources s = File("/x/cdh.toml", "[kbc]\nname = \"cc_kbc\"\nurl = \"http://kbs.local:8080\"\n");
  s.env["AA_KBC_PARAMS"] = "offline_fs_kbc::null";
  s.kernel_cmdline = "console=ttyS0 agent.aa_kbc_params=cc_kbc::http://other:1";
  auto c = LoadConfig(s);
  ASSERT_THAT(c, IsOk());
  EXPECT_EQ(c->kbc.name, "cc_kbc");
  EXPECT_EQ(c->kbc.url, "http://kbs.local:8080");
  EXPECT_TRUE(HasWarning(*c, "AA_KBC_PARAMS is set but the config file's [kbc] is used"));
}

TEST(ConfigPrecedenceTest, EnvironmentWinsOverCmdlineWithoutFile) {
  ConfigSources s;
  s.env["AA_KBC_PARAMS"] = "cc_kbc::http://[::1]:8080";  // IPv6: only the first "::" separates
  s.kernel_cmdline = "agent.aa_kbc_params=cc_kbc::http://cmdline:1\n";
  auto c = LoadConfig(s);
  ASSERT_THAT(c, IsOk());
  EXPECT_EQ(c->kbc.url, "http://[::1]:8080");
}

TEST(ConfigPrecedenceTest, CmdlineUsedWhenNothingElse) {
  ConfigSources s;
  s.kernel_cmdline = "quiet agent.aa_kbc_params=cc_kbc::http://10.0.0.2:8080 panic=1";
  auto c = LoadConfig(s);
  ASSERT_THAT(c, IsOk());
  EXPECT_EQ(c->kbc.name, "cc_kbc");
  EXPECT_EQ(c->kbc.url, "http://10.0.0.2:8080");
}

TEST(ConfigPrecedenceTest, MalformedKbcParamsNameTheirSource) {
  ConfigSources s;
  s.env["AA_KBC_PARAMS"] = "cc_kbc";
  ExpectInvalid(s, "AA_KBC_PARAMS");
  ConfigSources t;
  t.kernel_cmdline = "agent.aa_kbc_params=::http://x";
  ExpectInvalid(t, "agent.aa_kbc_params");
  ConfigSources u;
  u.env["AA_KBC_PARAMS"] = "sample_kbc::null";
  ExpectInvalid(u, "kbc.name");
}

TEST(ConfigPrecedenceTest, KernelCredentialsAreAppendedWithOrWithoutFile) {
  ConfigSources s = File("/x/c.toml", R"(
[kbc]
name = "offline_fs_kbc"
[[credentials]]
resource_uri = "kbs:///a/b/c"
path = "/run/confidential-containers/cdh/kbs/a"
)");
  s.kernel_cmdline =
      "cdh.kbs_resources=kbs:///d/e/f::/run/confidential-containers/cdh/kbs/d,kbs:///g/h/i::/run/"
      "confidential-containers/cdh/kbs/g";
  auto c = LoadConfig(s);
  ASSERT_THAT(c, IsOk());
  ASSERT_EQ(c->credentials.size(), 3u);
  EXPECT_EQ(c->credentials[2].resource_uri, "kbs:///g/h/i");
}

TEST(ConfigFileTest, ReadsEveryUpstreamKeyAndOurExtensions) {
  auto c = LoadConfig(File("/x/cdh.toml", R"(
socket = "unix:///tmp/t/cdh.sock"
grpc_socket = "unix:///tmp/t/grpc.sock"
skip_sealed_secret_verification = true
[kbc]
name = "cc_kbc"
url = "https://kbs:8080"
kbs_cert = "-----BEGIN CERTIFICATE-----\n..."
[log]
level = "DEBUG"
[attestation]
tee = "sample"
[paths]
base_dir = "/tmp/t/base"
[offline_fs_kbc]
resource_files = ["/tmp/t/r.json"]
[secure_mount]
data_path = "userspace"
)"));
  ASSERT_THAT(c, IsOk());
  EXPECT_EQ(c->socket.path(), "/tmp/t/cdh.sock");
  ASSERT_TRUE(c->grpc_socket.has_value());
  EXPECT_EQ(c->grpc_socket->path(), "/tmp/t/grpc.sock");
  EXPECT_EQ(c->secure_mount_data_path, DataPathChoice::kUserspace);
  EXPECT_TRUE(c->skip_sealed_secret_verification);
  EXPECT_EQ(c->kbc.url, "https://kbs:8080");
  ASSERT_TRUE(c->kbc.kbs_cert.has_value());
  EXPECT_EQ(c->log_level, spdlog::level::debug);
  EXPECT_EQ(c->attestation.tee, "sample");
  EXPECT_EQ(c->CredentialsDir(), "/tmp/t/base/kbs");
  EXPECT_EQ(c->offline_fs_files, std::vector<std::string>{"/tmp/t/r.json"});
}

// Where the TEE interfaces live and where the init data is.
TEST(ConfigFileTest, AttestationPlatformKeys) {
  auto c = LoadConfig(File("/x/c.toml",
                           "[kbc]\nname = \"offline_fs_kbc\"\n[attestation]\ntee = \"tpm\"\n"
                           "tpm_tcti = \"swtpm:path=/run/tpm.sock\"\ntpm_ak_handle = \"0x81000003\"\n"
                           "tsm_report_root = \"/tmp/tsm\"\nimds_url = \"http://127.0.0.1:8080\"\n"
                           "init_data_path = \"/tmp/initdata.toml\"\n"));
  ASSERT_THAT(c, IsOk());
  EXPECT_EQ(c->attestation.paths.tpm_tcti, "swtpm:path=/run/tpm.sock");
  EXPECT_EQ(c->attestation.paths.tpm_ak_handle, 0x81000003u);
  EXPECT_EQ(c->attestation.paths.tsm_report_root, "/tmp/tsm");
  EXPECT_EQ(c->attestation.paths.imds_url, "http://127.0.0.1:8080");
  EXPECT_EQ(c->attestation.init_data_path, "/tmp/initdata.toml");
  EXPECT_TRUE(c->warnings.empty());
  for (const char* bad : {"\"xyz\"", "\"0x\"", "\"0x123456789\"", "\"81g\""}) {
    ExpectInvalid(File("/x/c.toml",
                       std::string("[kbc]\nname = \"offline_fs_kbc\"\n[attestation]\ntpm_ak_handle = ") + bad + "\n"),
                  "attestation.tpm_ak_handle");
  }
}

TEST(ConfigPrecedenceTest, KernelCredentialProblemsNameTheKernelCommandLine) {
  ConfigSources s;
  s.kernel_cmdline = "cdh.kbs_resources=kbs:///a/b/c::/etc/shadow";
  ExpectInvalid(s, "kernel command line cdh.kbs_resources");
}

TEST(ConfigFileTest, KbcUrlMustBeHttp) {
  ExpectInvalid(File("/x/c.toml", "[kbc]\nname = \"cc_kbc\"\nurl = \"not a url\"\n"), "kbc.url");
  ExpectInvalid(File("/x/c.toml", "[kbc]\nname = \"cc_kbc\"\nurl = \"ftp://kbs\"\n"), "kbc.url");
}

TEST(ConfigFileTest, JsonFilesWorkToo) {
  auto c = LoadConfig(File("/x/cdh.json", R"({"kbc":{"name":"offline_fs_kbc"},"socket":"unix:///tmp/a.sock"})"));
  ASSERT_THAT(c, IsOk());
  EXPECT_EQ(c->socket.path(), "/tmp/a.sock");
}

TEST(ConfigFileTest, UnknownAndUnusedKeysWarn) {
  auto c = LoadConfig(File("/x/cdh.toml", R"(
future_key = 1
[kbc]
name = "offline_fs_kbc"
colour = "blue"
[aa]
aa_socket = "unix:///run/aa.sock"
[image]
some_undefined_field = "x"
)"));
  ASSERT_THAT(c, IsOk());
  EXPECT_TRUE(HasWarning(*c, "`future_key`"));
  EXPECT_TRUE(HasWarning(*c, "`kbc.colour`"));
  EXPECT_TRUE(HasWarning(*c, "[aa]"));
  EXPECT_TRUE(HasWarning(*c, "`image.some_undefined_field`"));
}

TEST(ConfigFileTest, ImageKeysWithUpstreamDefaults) {
  auto d = LoadConfig(File("/x/cdh.toml", "[kbc]\nname = \"offline_fs_kbc\"\n"));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->image.work_dir, "/run/kata-containers/image");
  EXPECT_EQ(d->image.max_concurrent_layer_downloads_per_image, 3);
  EXPECT_FALSE(d->image.image_security_policy.has_value());
  auto c = LoadConfig(File("/x/cdh.toml", R"(
[kbc]
name = "offline_fs_kbc"
[image]
work_dir = "/run/img"
image_security_policy_uri = "kbs:///default/trustee-image-policy/policy"
image_security_policy = '{"default":[{"type":"reject"}]}'
authenticated_registry_credentials_uri = "kbs:///default/credential/test"
max_concurrent_layer_downloads_per_image = 5
extra_root_certificates = ["-----BEGIN CERTIFICATE-----"]
[image.image_pull_proxy]
https_proxy = "http://proxy:3128"
no_proxy = "127.0.0.1"
[[image.registry_config.registry]]
location = "127.0.0.1:5055"
insecure = true
)"));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->image.work_dir, "/run/img");
  EXPECT_EQ(c->image.image_security_policy_uri, "kbs:///default/trustee-image-policy/policy");
  EXPECT_EQ(*c->image.image_security_policy, R"({"default":[{"type":"reject"}]})");
  EXPECT_EQ(c->image.max_concurrent_layer_downloads_per_image, 5);
  EXPECT_EQ(c->image.https_proxy, "http://proxy:3128");
  EXPECT_EQ(c->image.no_proxy, "127.0.0.1");
  ASSERT_TRUE(c->image.registry_config_json.has_value());
  EXPECT_NE(c->image.registry_config_json->find("127.0.0.1:5055"), std::string::npos);
  EXPECT_EQ(c->image.extra_root_certificates.size(), 1u);
  // The pre-2025 proxy keys are read with a warning.
  auto old = LoadConfig(File("/x/cdh.toml",
                             "[kbc]\nname = \"offline_fs_kbc\"\n[image]\nimage_pull_proxy = \"http://p:1\"\n"
                             "skip_proxy_ips = \"10.0.0.1\"\n"));
  ASSERT_TRUE(old.ok()) << old.status();
  EXPECT_EQ(old->image.https_proxy, "http://p:1");
  EXPECT_EQ(old->image.no_proxy, "10.0.0.1");
  EXPECT_TRUE(HasWarning(*old, "pre-2025"));
  ExpectInvalid(
      File("/x/c.toml", "[kbc]\nname = \"offline_fs_kbc\"\n[image]\nmax_concurrent_layer_downloads_per_image = -1\n"),
      "image.max_concurrent_layer_downloads_per_image");
  ExpectInvalid(File("/x/c.toml", "[kbc]\nname = \"offline_fs_kbc\"\n[image]\nwork_dir = \"rel\"\n"), "image.work_dir");
}

TEST(ConfigFileTest, MalformedValuesNameTheKey) {
  ExpectInvalid(File("/x/c.toml", "socket = \"x\"\n"), "[kbc]");
  ExpectInvalid(File("/x/c.toml", "[kbc]\nurl = \"http://x\"\n"), "kbc.name");
  ExpectInvalid(File("/x/c.toml", "[kbc]\nname = 5\n"), "kbc.name");
  ExpectInvalid(File("/x/c.toml", "kbc = 3\n"), "kbc");
  ExpectInvalid(File("/x/c.toml", "skip_sealed_secret_verification = \"true\"\n[kbc]\nname = \"offline_fs_kbc\"\n"),
                "skip_sealed_secret_verification");
  ExpectInvalid(File("/x/c.toml", "socket = \"/run/cdh.sock\"\n[kbc]\nname = \"offline_fs_kbc\"\n"), "socket");
  ExpectInvalid(File("/x/c.toml", "[kbc]\nname = \"cc_kbc\"\n"), "kbc.url");
  ExpectInvalid(File("/x/c.toml", "[kbc]\nname = \"cc_kbc\"\nurl = \"http://k\"\nkbs_cert = \"PEM\"\n"), "kbs_cert");
  ExpectInvalid(File("/x/c.toml", "[kbc]\nname = \"offline_fs_kbc\"\n[log]\nlevel = \"loud\"\n"), "log.level");
  ExpectInvalid(File("/x/c.toml", "[kbc]\nname = \"offline_fs_kbc\"\n[attestation]\ntee = \"sgx2\"\n"),
                "attestation.tee");
  ExpectInvalid(
      File("/x/c.toml", "[kbc]\nname = \"offline_fs_kbc\"\n[[credentials]]\nresource_uri = \"kbs:///a/b/c\"\n"),
      "credentials");
  ExpectInvalid(File("/x/c.toml",
                     "[kbc]\nname = \"offline_fs_kbc\"\n[[credentials]]\nresource_uri = \"kbs:///a/b/c\"\n"
                     "path = \"/etc/passwd\"\n"),
                "credentials.path");
  ExpectInvalid(File("/x/c.toml",
                     "[kbc]\nname = \"offline_fs_kbc\"\n[[credentials]]\nresource_uri = \"kbs:///a/b/c\"\n"
                     "path = \"/run/confidential-containers/cdh/kbs/../x\"\n"),
                "credentials.path");
  ExpectInvalid(File("/x/c.toml",
                     "[kbc]\nname = \"offline_fs_kbc\"\n[[credentials]]\nresource_uri = \"http://a\"\n"
                     "path = \"/run/confidential-containers/cdh/kbs/x\"\n"),
                "credentials.resource_uri");
  ExpectInvalid(File("/x/c.toml", "[kbc]\nname = \"offline_fs_kbc\"\n[secure_mount]\ndata_path = \"dm\"\n"),
                "secure_mount.data_path");
  ExpectInvalid(File("/x/c.toml", "[kbc]\nname = \"offline_fs_kbc\"\n[secure_mount]\ndata_path = 1\n"),
                "secure_mount.data_path");
  ExpectInvalid(File("/x/c.yaml", "kbc: {}"), "unsupported extension");
  ExpectInvalid(File("/x/c.toml", "[kbc\nname="), "c.toml:1");
  ExpectInvalid(File("/x/c.json", "{"), "not valid JSON");
}

TEST(ConfigFileTest, OfflineExtraFilesAndRustLogFromEnvironment) {
  ConfigSources s;
  s.env["OFFLINE_FS_KBC_EXTRA_FILE_PATH"] = "/a.json,/b.json";
  s.env["RUST_LOG"] = "debug";
  auto c = LoadConfig(s);
  ASSERT_THAT(c, IsOk());
  EXPECT_EQ(c->offline_fs_files.back(), "/b.json");
  EXPECT_EQ(c->offline_fs_files.size(), 4u);
  EXPECT_EQ(c->log_level, spdlog::level::debug);
}

TEST(ConfigFileTest, AbsentValuesAreAbsentNotEmpty) {
  auto c = LoadConfig(File("/x/c.toml",
                           "grpc_socket = \"\"\n[kbc]\nname = \"offline_fs_kbc\"\nurl = \"\"\n"
                           "[attestation]\ntee = \"\"\ntsm_report_root = \"\"\ntpm_ak_handle = \"\"\n"
                           "init_data_path = \"\"\n"));
  ASSERT_THAT(c, IsOk());
  EXPECT_EQ(c->attestation.paths.tsm_report_root, attestation::TeePaths{}.tsm_report_root);  // "" = default
  EXPECT_EQ(c->attestation.paths.tpm_ak_handle, attestation::TeePaths{}.tpm_ak_handle);
  EXPECT_EQ(c->attestation.init_data_path, attestation::kDefaultInitDataPath);
  EXPECT_EQ(c->grpc_socket, std::nullopt);      // "" turns gRPC off
  EXPECT_EQ(c->attestation.tee, std::nullopt);  // "" = detect
  EXPECT_EQ(c->kbc.url, std::nullopt);
  EXPECT_EQ(c->kbc.kbs_cert, std::nullopt);
  EXPECT_EQ(c->sealed_secret_key_dir, std::nullopt);
  auto empty_url = ParseKbcParams("offline_fs_kbc::");
  ASSERT_THAT(empty_url, IsOk());
  EXPECT_EQ(empty_url->url, std::nullopt);
}

TEST(ConfigFileTest, KbcAndTeeNamesComeFromThePluginRegistries) {
  KnownPlugins plugins{.kbcs = {{"only_kbc", KbcTraits{}}}, .tees = {"only_tee"}};
  EXPECT_THAT(
      cdh::LoadConfig(File("/x/c.toml", "[kbc]\nname = \"only_kbc\"\n[attestation]\ntee = \"only_tee\"\n"), plugins),
      IsOk());
  EXPECT_THAT(cdh::LoadConfig(File("/x/c.toml", "[kbc]\nname = \"offline_fs_kbc\"\n"), plugins),
              StatusIs(absl::StatusCode::kInvalidArgument, "expected only_kbc"));
  EXPECT_THAT(cdh::LoadConfig(File("/x/c.toml", "[kbc]\nname = \"only_kbc\"\n[attestation]\ntee = \"tdx\"\n"), plugins),
              StatusIs(absl::StatusCode::kInvalidArgument, "one of only_tee"));
  KnownPlugins builtin = BuiltinPlugins();
  EXPECT_TRUE(builtin.kbcs.at("cc_kbc").needs_broker_url);
  EXPECT_FALSE(builtin.kbcs.at("offline_fs_kbc").needs_broker_url);
  EXPECT_THAT(builtin.tees, ::testing::IsSupersetOf({"sample", "tdx", "snp", "tpm", "az-tdx-vtpm", "az-snp-vtpm"}));
}

}  // namespace
}  // namespace cdh
