#include "storage/block_device_options.h"

#include "common/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace cdh::storage {
namespace {

using ::cdh::testing::StatusIs;

using ::cdh::testing::IsOk;

using Options = std::map<std::string, std::string>;

Options Base() {
  return {{"deviceId", "8:0"}, {"sourceType", "empty"}, {"encryptionType", "luks2"}, {"targetType", "fileSystem"}};
}

TEST(BlockDeviceOptionsTest, KataAgentRequestParses) {
  Options o = Base();
  o["filesystemType"] = "ext4";
  o["mkfsOpts"] = "-O ^has_journal  -m 0\t-i 163840 -I 128";
  o["dataIntegrity"] = "true";
  auto r = ParseBlockDeviceOptions(o);
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->device_id, std::make_pair(8u, 0u));
  EXPECT_EQ(r->source_type, SourceType::kEmpty);
  EXPECT_EQ(r->target_type, TargetType::kFileSystem);
  EXPECT_EQ(r->key.kind, KeySourceKind::kRandom);
  EXPECT_TRUE(r->data_integrity);
  EXPECT_EQ(r->mkfs_opts, (std::vector<std::string>{"-O", "^has_journal", "-m", "0", "-i", "163840", "-I", "128"}));
}

TEST(BlockDeviceOptionsTest, KeySchemes) {
  struct Case {
    const char* key;
    KeySourceKind kind;
  };
  for (Case c : {Case{"sealed.abc.def.ghi", KeySourceKind::kSealed}, Case{"kbs:///default/key/1", KeySourceKind::kKbs},
                 Case{"file:///run/key.bin", KeySourceKind::kFile}}) {
    Options o = Base();
    o["key"] = c.key;
    auto r = ParseBlockDeviceOptions(o);
    ASSERT_THAT(r, IsOk()) << c.key;
    EXPECT_EQ(r->key.kind, c.kind);
  }
  Options o = Base();
  o["key"] = "file:///run/key.bin";
  EXPECT_EQ(ParseBlockDeviceOptions(o)->key.uri, "/run/key.bin");
}

TEST(BlockDeviceOptionsTest, BadOptionsNameTheOption) {
  struct Case {
    const char* key;
    const char* value;
    const char* named;
    absl::StatusCode code;
  };
  const Case cases[] = {
      {"deviceId", "8", "deviceId", absl::StatusCode::kInvalidArgument},
      {"deviceId", "8:0:1", "deviceId", absl::StatusCode::kInvalidArgument},
      {"deviceId", "a:b", "deviceId", absl::StatusCode::kInvalidArgument},
      {"deviceId", "-1:0", "deviceId", absl::StatusCode::kInvalidArgument},
      {"deviceId", "99999999999:0", "deviceId", absl::StatusCode::kInvalidArgument},
      {"devicePath", "dev/sda", "devicePath", absl::StatusCode::kInvalidArgument},
      {"sourceType", "Empty", "sourceType", absl::StatusCode::kInvalidArgument},
      {"key", "ftp://x/y", "key", absl::StatusCode::kInvalidArgument},
      {"key", "file://relative", "key", absl::StatusCode::kInvalidArgument},
      {"key", "", "key", absl::StatusCode::kInvalidArgument},
      {"encryptionType", "luks1", "encryptionType", absl::StatusCode::kInvalidArgument},
      {"encryptionType", "zfs", "encryptionType", absl::StatusCode::kUnimplemented},
      {"targetType", "filesystem", "targetType", absl::StatusCode::kInvalidArgument},
      {"filesystemType", "xfs", "filesystemType", absl::StatusCode::kInvalidArgument},
      {"dataIntegrity", "TRUE", "dataIntegrity", absl::StatusCode::kInvalidArgument},
      {"dataIntegrity", "1", "dataIntegrity", absl::StatusCode::kInvalidArgument},
      {"mapperName", "../x", "mapperName", absl::StatusCode::kInvalidArgument},
  };
  for (const Case& c : cases) {
    Options o = Base();
    o[c.key] = c.value;
    auto r = ParseBlockDeviceOptions(o);
    ASSERT_FALSE(r.ok()) << c.key << "=" << c.value;
    EXPECT_THAT(r, StatusIs(c.code)) << c.key << "=" << c.value;
    EXPECT_THAT(std::string(r.status().message()), ::testing::HasSubstr(c.named)) << r.status();
  }
  for (const char* required : {"sourceType", "encryptionType", "targetType"}) {
    Options o = Base();
    o.erase(required);
    auto r = ParseBlockDeviceOptions(o);
    ASSERT_THAT(r, StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_THAT(std::string(r.status().message()), ::testing::HasSubstr(required)) << r.status();
  }
  Options none = Base();
  none.erase("deviceId");
  EXPECT_THAT(std::string(ParseBlockDeviceOptions(none).status().message()), ::testing::HasSubstr("devicePath"));
}

TEST(BlockDeviceOptionsTest, DeviceIdWinsAndUnknownKeysAreIgnored) {
  Options o = Base();
  o["devicePath"] = "/dev/vdb";
  o["readOnly"] = "true";
  auto r = ParseBlockDeviceOptions(o);
  ASSERT_THAT(r, IsOk());
  EXPECT_TRUE(r->device_id.has_value());
  EXPECT_EQ(r->device_path, "/dev/vdb");
}

TEST(BlockDeviceOptionsTest, KeyValueNeverEchoed) {
  Options o = Base();
  o["key"] = "gopher://secret-material-here";
  auto r = ParseBlockDeviceOptions(o);
  ASSERT_THAT(r, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(r.status().message()), ::testing::Not(::testing::HasSubstr("secret-material")));
}

TEST(BlockDeviceOptionsTest, MkfsArgvMergesEagerInodeTablesWithIntegrity) {
  using V = std::vector<std::string>;
  EXPECT_EQ(Ext4MkfsArgv({"-m", "0"}, false, "/dev/x"), (V{"mkfs.ext4", "-F", "-q", "-m", "0", "/dev/x"}));
  EXPECT_EQ(Ext4MkfsArgv({}, true, "/dev/x"), (V{"mkfs.ext4", "-F", "-q", "-E", "lazy_itable_init=0", "/dev/x"}));
  EXPECT_EQ(Ext4MkfsArgv({"-E", "lazy_journal_init"}, true, "/dev/x"),
            (V{"mkfs.ext4", "-F", "-q", "-E", "lazy_journal_init,lazy_itable_init=0", "/dev/x"}));
  EXPECT_EQ(Ext4MkfsArgv({"-Elazy_journal_init"}, true, "/dev/x"),
            (V{"mkfs.ext4", "-F", "-q", "-Elazy_journal_init,lazy_itable_init=0", "/dev/x"}));
  // The caller's own choice is kept.
  EXPECT_EQ(Ext4MkfsArgv({"-E", "lazy_itable_init=1"}, true, "/dev/x"),
            (V{"mkfs.ext4", "-F", "-q", "-E", "lazy_itable_init=1", "/dev/x"}));
}

}  // namespace
}  // namespace cdh::storage
