// cc_kbc over a real kbs-dev on a loopback port. The sample attester stands in for a TEE.
#include "resources/cc_kbc_provider.h"

#include <filesystem>

#include "attestation/sample_attester.h"
#include "common/file_util.h"
#include "common/strings.h"
#include "common/testing/status_matchers.h"
#include "gtest/gtest.h"
#include "kbs-dev/kbs_dev_server.h"

namespace cdh::resources {
namespace {

using ::cdh::testing::IsOk;
using ::cdh::testing::StatusIs;

TEST(CcKbcProviderTest, ForeignAuthorityNeverUsedAndQueryForwarded) {
  std::string dir = StrCat(::testing::TempDir(), "/cc-kbc-", ::getpid());
  std::filesystem::remove_all(dir);
  kbsdev::KbsDevOptions o;
  o.resource_dir = dir;
  o.insecure_admin = true;
  auto server = kbsdev::KbsDevServer::Start(o);
  ASSERT_THAT(server, IsOk());
  ASSERT_TRUE(WriteFileAtomic(dir + "/repository/default\\x2Fkey\\x2F1", "from the configured KBS", 0600).ok());
  kbs::KbsConnectionConfig conn{(*server)->url(), ""};
  auto client = kbs::NewCurlKbsClient(conn, {}, std::make_unique<attestation::SampleAttester>());
  ASSERT_THAT(client, IsOk());
  CcKbcProvider provider(std::move(client).value());
  EXPECT_EQ(provider.name(), "cc_kbc");
  for (const char* text : {"kbs:///default/key/1", "kbs://attacker.invalid:9/default/key/1",
                           "kbs://127.0.0.2:1/default/key/1?version=2"}) {
    auto uri = ResourceUri::Parse(text);
    ASSERT_THAT(uri, IsOk()) << text;
    auto r = provider.GetResource(*uri, CallContext::WithTimeout(absl::Seconds(10)));
    ASSERT_THAT(r, IsOk()) << text << ": " << r.status();
    EXPECT_EQ(r->RevealString(), "from the configured KBS");
  }
  EXPECT_EQ((*server)->stats().resource_ok, 3u);
  EXPECT_EQ((*server)->stats().attest, 1u);
  auto missing =
      provider.GetResource(*ResourceUri::Parse("kbs:///default/key/2"), CallContext::WithTimeout(absl::Seconds(10)));
  EXPECT_THAT(missing, StatusIs(absl::StatusCode::kNotFound));
  (*server)->Stop();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cdh::resources
