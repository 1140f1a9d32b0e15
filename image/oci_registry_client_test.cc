// OciRegistryClient against a real docker-registry (Debian's docker-registry 2.8) started on
// 127.0.0.1 by the test, with images built by umoci and pushed by skopeo (image-pull spec §9).
#include "image/oci_registry_client.h"

#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/time/clock.h"
#include "common/testing/status_matchers.h"
#include "http/curl_http_client.h"
#include "image/manifest.h"
#include "tests/image/registry_fixture.h"
#include "tests/test_util.h"

namespace cdh::image {
namespace {

using ::cdh::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

using testing::ImageBuilder;
using testing::LocalRegistry;
using testing::RegistryAuth;
using testing::TempDir;

CallContext Deadline() { return CallContext::WithTimeout(absl::Seconds(60)); }

class RegistryClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto http = http::CurlHttpClient::New({});
    ASSERT_TRUE(http.ok());
    http_ = std::move(*http);
  }

  std::unique_ptr<LocalRegistry> StartRegistry(RegistryAuth auth) {
    auto reg = LocalRegistry::Start(tmp_.path() + "/reg" + std::to_string(registries_++), auth);
    if (!reg.ok()) ADD_FAILURE() << reg.status();
    return reg.ok() ? std::move(*reg) : nullptr;
  }

  // Builds the one-layer test image once per test and pushes it to `ref`.
  void Push(const std::string& ref, std::vector<std::string> extra = {}) {
    if (!built_) {
      testing::WriteTreeFile(tmp_.path() + "/src", "app/hello.txt", "hello from the registry\n");
      ASSERT_TRUE(builder_.Build("app", {{tmp_.path() + "/src", {}}}).ok());
      built_ = true;
    }
    auto st = builder_.Push("app", ref, extra);
    ASSERT_TRUE(st.ok()) << st;
  }

  std::unique_ptr<OciRegistryClient> Client(const LocalRegistry& reg, bool with_creds) {
    OciRegistryClientOptions options;
    options.registry = reg.host();
    options.plain_http = true;
    if (with_creds) options.credentials = RegistryCredentials{"alice", SecretBytes::FromString("s3cret")};
    auto c = OciRegistryClient::New(*http_, std::move(options));
    return c.ok() ? std::move(*c) : nullptr;
  }

  TempDir tmp_;
  ImageBuilder builder_{tmp_.path() + "/build"};
  std::unique_ptr<http::CurlHttpClient> http_;
  int registries_ = 0;
  bool built_ = false;
};

TEST_F(RegistryClientTest, PullsManifestConfigAndLayerWithDigestsChecked) {
  auto reg = StartRegistry(RegistryAuth::kNone);
  ASSERT_NE(reg, nullptr);
  Push(reg->host() + "/test/app:v1");
  auto client = Client(*reg, false);
  auto ref = ImageReference::Parse(reg->host() + "/test/app:v1");
  ASSERT_TRUE(ref.ok());

  auto m = client->GetManifest(*ref, "v1", Deadline());
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_TRUE(m->digest.Matches(m->bytes));
  EXPECT_EQ(*ClassifyManifest(m->bytes, m->media_type), ManifestKind::kImageManifest);
  auto by_digest = client->GetManifest(*ref, m->digest.String(), Deadline());
  ASSERT_TRUE(by_digest.ok()) << by_digest.status();
  EXPECT_EQ(by_digest->bytes, m->bytes);

  auto manifest = ParseImageManifest(m->bytes);
  ASSERT_TRUE(manifest.ok());
  auto config = client->GetBlob(*ref, manifest->config.digest, kMaxConfigBytes, Deadline());
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(ParseImageConfig(*config).ok());
  EXPECT_THAT(client->GetBlob(*ref, manifest->config.digest, 10, Deadline()).status(),
              StatusIs(absl::StatusCode::kResourceExhausted));

  const Descriptor& layer = manifest->layers.at(0);
  int64_t received = 0;
  absl::Status st = client->StreamBlob(
      *ref, layer.digest, layer.size,
      [&](std::span<const uint8_t> chunk) {
        received += static_cast<int64_t>(chunk.size());
        return absl::OkStatus();
      },
      Deadline());
  ASSERT_TRUE(st.ok()) << st;
  EXPECT_EQ(received, layer.size);
  // A declared size that disagrees with the blob is DATA_LOSS.
  EXPECT_THAT(client->StreamBlob(
                  *ref, layer.digest, layer.size - 1, [](auto) { return absl::OkStatus(); }, Deadline()),
              StatusIs(absl::StatusCode::kDataLoss));
}

TEST_F(RegistryClientTest, MissingTagAndBlobAreNotFound) {
  auto reg = StartRegistry(RegistryAuth::kNone);
  ASSERT_NE(reg, nullptr);
  Push(reg->host() + "/test/app:v1");
  auto client = Client(*reg, false);
  auto ref = *ImageReference::Parse(reg->host() + "/test/app:v1");
  EXPECT_THAT(client->GetManifest(ref, "nope", Deadline()).status(), StatusIs(absl::StatusCode::kNotFound));
  auto other = *ImageReference::Parse(reg->host() + "/test/none:v1");
  EXPECT_THAT(client->GetManifest(other, "v1", Deadline()).status(), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(client->GetBlob(ref, Digest::Sha256Of(std::string_view("x")), 100, Deadline()).status(),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(RegistryClientTest, CorruptedBlobInTheRegistryIsDataLoss) {
  auto reg = StartRegistry(RegistryAuth::kNone);
  ASSERT_NE(reg, nullptr);
  Push(reg->host() + "/test/app:v1");
  auto client = Client(*reg, false);
  auto ref = *ImageReference::Parse(reg->host() + "/test/app:v1");
  auto m = client->GetManifest(ref, "v1", Deadline());
  ASSERT_TRUE(m.ok());
  auto manifest = ParseImageManifest(m->bytes);
  // Flip one byte of the config blob in the registry's own storage.
  const Digest& d = manifest->config.digest;
  std::string path =
      tmp_.path() + "/reg0/data/docker/registry/v2/blobs/sha256/" + d.hex().substr(0, 2) + "/" + d.hex() + "/data";
  std::string content = testing::ReadFile(path);
  ASSERT_FALSE(content.empty());
  content[content.size() / 2] ^= 1;
  std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
  auto blob = client->GetBlob(ref, d, kMaxConfigBytes, Deadline());
  EXPECT_THAT(blob.status(), StatusIs(absl::StatusCode::kDataLoss)) << blob.status();
}

TEST_F(RegistryClientTest, BearerTokenAnonymousAndWithCredentials) {
  auto reg = StartRegistry(RegistryAuth::kToken);
  ASSERT_NE(reg, nullptr);
  Push(reg->host() + "/private/app:v1", {"--dest-creds", LocalRegistry::Creds()});
  Push(reg->host() + "/public/app:v1", {"--dest-creds", LocalRegistry::Creds()});
  auto priv = *ImageReference::Parse(reg->host() + "/private/app:v1");
  auto pub = *ImageReference::Parse(reg->host() + "/public/app:v1");

  auto anonymous = Client(*reg, false);
  EXPECT_TRUE(anonymous->GetManifest(pub, "v1", Deadline()).ok());
  auto denied = anonymous->GetManifest(priv, "v1", Deadline());
  EXPECT_THAT(denied.status(), StatusIs(absl::StatusCode::kPermissionDenied)) << denied.status();

  auto authed = Client(*reg, true);
  auto m = authed->GetManifest(priv, "v1", Deadline());
  ASSERT_TRUE(m.ok()) << m.status();
  auto again = authed->GetManifest(priv, m->digest.String(), Deadline());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(authed->token_fetches(), 1) << "the token is reused within its lifetime";
  EXPECT_THAT(std::string(denied.status().message()), Not(HasSubstr("s3cret")));
}

TEST_F(RegistryClientTest, HtpasswdBasicAuth) {
  auto reg = StartRegistry(RegistryAuth::kHtpasswd);
  ASSERT_NE(reg, nullptr);
  Push(reg->host() + "/test/app:v1", {"--dest-creds", LocalRegistry::Creds()});
  auto ref = *ImageReference::Parse(reg->host() + "/test/app:v1");
  EXPECT_THAT(Client(*reg, false)->GetManifest(ref, "v1", Deadline()).status(),
              StatusIs(absl::StatusCode::kPermissionDenied));
  auto m = Client(*reg, true)->GetManifest(ref, "v1", Deadline());
  EXPECT_TRUE(m.ok()) << m.status();
}

TEST_F(RegistryClientTest, UnreachableRegistryIsUnavailable) {
  OciRegistryClientOptions options;
  options.registry = "127.0.0.1:1";
  options.plain_http = true;
  auto client = OciRegistryClient::New(*http_, std::move(options));
  auto ref = *ImageReference::Parse("127.0.0.1:1/test/app:v1");
  EXPECT_THAT((*client)->GetManifest(ref, "v1", Deadline()).status(), StatusIs(absl::StatusCode::kUnavailable));
}

}  // namespace
}  // namespace cdh::image
