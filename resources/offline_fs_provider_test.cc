#include "resources/offline_fs_provider.h"

#include <filesystem>

#include <gtest/gtest.h>

#include "common/file_util.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"

namespace cdh::resources {
namespace {

using ::cdh::testing::IsOk;
using ::cdh::testing::StatusIs;

class OfflineFsProviderTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& name, const std::string& text) {
    std::string path = dir_ + "/" + name;
    EXPECT_TRUE(WriteFileAtomic(path, text, 0600).ok());
    return path;
  }
  absl::StatusOr<SecretBytes> Get(OfflineFsProvider& p, const char* uri) {
    return p.GetResource(*ResourceUri::Parse(uri), CallContext{});
  }
  testing::TempDir tmp_{"cdh-offline"};
  std::string dir_ = tmp_.path();
};

TEST_F(OfflineFsProviderTest, ReadsUpstreamFormatAndLaterFileWins) {
  std::string a = Write("a.json", R"({"default/key/1":"HUlOu8NWz8si11OZUzUJMnjiq/iZyHBJZMSD3BaqgMc=","r/t/x":"YQ=="})");
  std::string b = Write("b.json", R"({"r/t/x":"Yg=="})");
  OfflineFsProvider p({dir_ + "/missing.json", a, b});
  auto key = Get(p, "kbs:///default/key/1");
  ASSERT_THAT(key, IsOk());
  EXPECT_EQ(key->size(), 32u);
  EXPECT_EQ(Get(p, "kbs:///r/t/x")->RevealString(), "b");
  // Host, plugin and query are ignored for the lookup (cdh-api.md §9.4).
  EXPECT_EQ(Get(p, "kbs+other://h:1/r/t/x?q=1")->RevealString(), "b");
}

TEST_F(OfflineFsProviderTest, MissingKeyIsNotFoundAndEditsApplyAtOnce) {
  std::string a = Write("a.json", R"({})");
  OfflineFsProvider p({a});
  EXPECT_THAT(Get(p, "kbs:///r/t/g"), StatusIs(absl::StatusCode::kNotFound));
  Write("a.json", R"({"r/t/g":"eHl6"})");
  EXPECT_EQ(Get(p, "kbs:///r/t/g")->RevealString(), "xyz");
}

TEST_F(OfflineFsProviderTest, MalformedFileOrValueIsFailedPrecondition) {
  OfflineFsProvider bad_json({Write("bad.json", "{not json")});
  EXPECT_THAT(Get(bad_json, "kbs:///r/t/g"), StatusIs(absl::StatusCode::kFailedPrecondition));
  OfflineFsProvider array({Write("arr.json", "[1,2]")});
  EXPECT_THAT(Get(array, "kbs:///r/t/g"), StatusIs(absl::StatusCode::kFailedPrecondition));
  OfflineFsProvider bad_value({Write("val.json", R"({"r/t/g":"not base64!"})")});
  auto r = Get(bad_value, "kbs:///r/t/g");
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(std::string(r.status().message()), ::testing::Not(::testing::HasSubstr("not base64!"))) << "value echoed";
  OfflineFsProvider number({Write("num.json", R"({"r/t/g":5})")});
  EXPECT_THAT(Get(number, "kbs:///r/t/g"), StatusIs(absl::StatusCode::kFailedPrecondition));
}

}  // namespace
}  // namespace cdh::resources
