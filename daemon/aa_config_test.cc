// The attestation agent's configuration file (upstream aa.toml keys) and the data hub's
// `[rest_api]` table.
#include "daemon/aa_config.h"

#include "common/testing/status_matchers.h"
#include "daemon/composition.h"
#include "daemon/config.h"
#include "gtest/gtest.h"

namespace cdh {
namespace {

using absl::StatusCode;
using ::cdh::testing::IsOk;
using ::cdh::testing::StatusIs;

TEST(AaConfigTest, UpstreamKeysAndOurs) {
  auto c = ParseAaConfig("aa.toml", R"(
[token_configs.kbs]
url = "http://127.0.0.1:8080"
cert = "PEM"
[token_configs.coco_as]
url = "http://as"
[eventlog_config]
enable_eventlog = true
init_pcr = 23
log_path = "/tmp/x/eventlog"
[log]
level = "debug"
[attestation]
tee = "sample"
[something]
else = 1
)");
  ASSERT_THAT(c, IsOk());
  EXPECT_EQ(c->kbs_url, "http://127.0.0.1:8080");
  EXPECT_EQ(c->kbs_cert, "PEM");
  EXPECT_TRUE(c->eventlog_enabled);
  EXPECT_EQ(c->init_pcr, 23u);
  EXPECT_EQ(c->eventlog_path, "/tmp/x/eventlog");
  EXPECT_EQ(c->log_level, spdlog::level::debug);
  EXPECT_EQ(c->attestation.tee, "sample");
  ASSERT_EQ(c->warnings.size(), 2u);  // coco_as not built; [something] unknown
}

TEST(AaConfigTest, DefaultsAreUpstreams) {
  auto c = ParseAaConfig("aa.toml", "");
  ASSERT_THAT(c, IsOk());
  EXPECT_FALSE(c->kbs_url.has_value());
  EXPECT_FALSE(c->eventlog_enabled);
  EXPECT_EQ(c->init_pcr, 17u);
  EXPECT_EQ(c->eventlog_path, "/run/attestation-agent/eventlog");
}

TEST(AaConfigTest, MalformedValuesNameTheKey) {
  for (const auto& [text, key] : std::vector<std::pair<const char*, const char*>>{
           {"[token_configs.kbs]\nurl = \"ftp://x\"\n", "token_configs.kbs.url"},
           {"[token_configs.kbs]\nurl = 5\n", "token_configs.kbs.url"},
           {"token_configs = 1\n", "token_configs"},
           {"[eventlog_config]\nenable_eventlog = \"yes\"\n", "eventlog_config.enable_eventlog"},
           {"[eventlog_config]\ninit_pcr = 24\n", "eventlog_config.init_pcr"},
           {"[log]\nlevel = \"loud\"\n", "log.level"},
           {"[attestation]\ntpm_ak_handle = \"zz\"\n", "attestation.tpm_ak_handle"},
           {"[eventlog_config\n", "aa.toml"},
       }) {
    EXPECT_THAT(ParseAaConfig("aa.toml", text), StatusIs(StatusCode::kInvalidArgument, key)) << text;
  }
}

TEST(RestApiConfigTest, ParsedIntoThePolicy) {
  ConfigSources sources;
  sources.file_path = "cdh.toml";
  sources.file_text = R"(
[kbc]
name = "offline_fs_kbc"
[rest_api]
default = "deny"
[[rest_api.rules]]
name = "keys"
routes = ["resource:default/key/*"]
)";
  auto config = LoadConfig(sources, BuiltinPlugins());
  ASSERT_THAT(config, IsOk());
  ASSERT_TRUE(config->rest_policy.has_value());
  EXPECT_EQ(config->rest_policy->Refusal("resource:default/key/1", std::nullopt), std::nullopt);
  EXPECT_EQ(config->rest_policy->Refusal("aa:token", std::nullopt), "default");
  sources.file_text = "[kbc]\nname = \"offline_fs_kbc\"\n[rest_api]\ndefault = \"sometimes\"\n";
  EXPECT_THAT(LoadConfig(sources, BuiltinPlugins()), StatusIs(StatusCode::kInvalidArgument, "rest_api.default"));
}

}  // namespace
}  // namespace cdh
