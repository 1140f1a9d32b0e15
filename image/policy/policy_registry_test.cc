// Every policy requirement type against real images in a real registry: docker-registry on
// 127.0.0.1, images built with umoci and pushed with skopeo (tests/image/registry_fixture.h),
// fetched through the production OciRegistryClient. Cosign-format signatures come from
// tests/image/cosign_sign.py (Debian's skopeo refuses sigstore signing); simple signatures from
// `skopeo --sign-by` with a throw-away GPG key into a lookaside directory. The broker holding the
// keys is FakeResourceProvider here; the daemon end-to-end test uses kbs-dev.
#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"
#include "http/curl_http_client.h"
#include "image/oci_registry_client.h"
#include "image/policy/policy_evaluator.h"
#include "resources/fake_resource_provider.h"
#include "tests/image/registry_fixture.h"
#include "tests/test_util.h"

namespace cdh::image {
namespace {

using ::cdh::testing::StatusIs;
using ::testing::HasSubstr;

using cdh::testing::CommandResult;
using cdh::testing::ImageBuilder;
using cdh::testing::LocalRegistry;
using cdh::testing::RegistryAuth;
using cdh::testing::RunCommand;
using cdh::testing::SourcePath;
using cdh::testing::TempDir;
using cdh::testing::WriteTreeFile;

class PolicyRegistryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    auto registry = LocalRegistry::Start(dir_->path() + "/registry", RegistryAuth::kNone);
    if (!registry.ok()) {
      skip_ = std::string(registry.status().message());
      return;
    }
    registry_ = registry->release();
    builder_ = new ImageBuilder(dir_->path() + "/build");
    WriteTreeFile(dir_->path() + "/src", "app/run.sh", "#!/bin/sh\necho fraud-detection\n", 0755);
    absl::Status st = builder_->Build("app", {{dir_->path() + "/src", {}}});
    ASSERT_TRUE(st.ok()) << st;
    for (const char* repo : {"signed/app", "signed/unsigned", "signed/otherkey", "signed/retagged", "signed/identity",
                             "plain/app", "other/app", "gpg/app"}) {
      st = builder_->Push("app", registry_->host() + "/" + repo + ":latest");
      ASSERT_TRUE(st.ok()) << st;
    }
    ASSERT_EQ(
        RunCommand({"/usr/bin/python3", SourcePath("tests/image/cosign_sign.py"), "keygen", dir_->path() + "/cosign"})
            .exit_code,
        0);
    ASSERT_EQ(
        RunCommand({"/usr/bin/python3", SourcePath("tests/image/cosign_sign.py"), "keygen", dir_->path() + "/other"})
            .exit_code,
        0);
    Sign("signed/app", "cosign.key");
    Sign("signed/otherkey", "other.key");
    // A valid signature for another image's digest, attached to this one (re-tagging).
    auto other = RunCommand({"/usr/bin/python3", SourcePath("tests/image/cosign_sign.py"), "sign",
                             "http://" + registry_->host(), "signed/retagged", "latest", dir_->path() + "/cosign.key",
                             "--digest", "sha256:" + std::string(64, 'a')});
    ASSERT_EQ(other.exit_code, 0) << other.err;
    auto moved = RunCommand({"/usr/bin/python3", SourcePath("tests/image/cosign_sign.py"), "sign",
                             "http://" + registry_->host(), "signed/identity", "latest", dir_->path() + "/cosign.key",
                             "--identity", registry_->host() + "/elsewhere/app"});
    ASSERT_EQ(moved.exit_code, 0) << moved.err;
  }

  static void Sign(const std::string& repo, const std::string& key) {
    auto r = RunCommand({"/usr/bin/python3", SourcePath("tests/image/cosign_sign.py"), "sign",
                         "http://" + registry_->host(), repo, "latest", dir_->path() + "/" + key});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  static void TearDownTestSuite() {
    delete builder_;
    delete registry_;
    delete dir_;
    builder_ = nullptr;
    registry_ = nullptr;
    dir_ = nullptr;
  }

  void SetUp() override {
    if (!skip_.empty()) GTEST_SKIP() << skip_;
    kbs_.Put("default/cosign-public-key/test", cdh::testing::ReadFile(dir_->path() + "/cosign.pub"));
    http_ = *http::CurlHttpClient::New({});
    client_ = *OciRegistryClient::New(*http_, {registry_->host(), /*plain_http=*/true, std::nullopt});
  }

  std::string Policy(const std::string& signed_scope_requirements) {
    const std::string host = registry_->host();
    return R"({"default":[{"type":"reject"}],"transports":{"docker":{
      ")" + host +
           R"(/signed":)" + signed_scope_requirements + R"(,
      ")" + host +
           R"(/plain":[{"type":"insecureAcceptAnything"}]}}})";
  }

  // Resolves `repo:latest` the way the puller does, then asks the evaluator.
  absl::Status Pull(PolicyEvaluator& evaluator, const std::string& repo) {
    auto ref = ImageReference::Parse(registry_->host() + "/" + repo + ":latest");
    EXPECT_TRUE(ref.ok());
    auto manifest = client_->GetManifest(*ref, "latest", CallContext::WithTimeout(absl::Seconds(30)));
    if (!manifest.ok()) return manifest.status();
    return evaluator.Verify(*ref, manifest->digest, *client_, CallContext::WithTimeout(absl::Seconds(30)));
  }

  static inline TempDir* dir_ = nullptr;
  static inline LocalRegistry* registry_ = nullptr;
  static inline ImageBuilder* builder_ = nullptr;
  static inline std::string skip_;

  resources::FakeResourceProvider kbs_;
  ResourceKeyResolver resolver_{kbs_};
  std::unique_ptr<http::CurlHttpClient> http_;
  std::unique_ptr<OciRegistryClient> client_;
};

void ExpectDenied(const absl::Status& s, const std::string& reason) {
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kPermissionDenied)) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("Image policy rejected: Denied by policy: ")) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr(reason)) << s;
}

TEST_F(PolicyRegistryTest, SigstoreSignedAllowsAndDenies) {
  auto evaluator =
      PolicyEvaluator::New(Policy(R"([{"type":"sigstoreSigned","keyPath":"kbs:///default/cosign-public-key/test",
                 "signedIdentity":{"type":"matchRepository"}}])"),
                           resolver_);
  ASSERT_TRUE(evaluator.ok()) << evaluator.status();
  EXPECT_TRUE(Pull(**evaluator, "signed/app").ok());
  ExpectDenied(Pull(**evaluator, "signed/unsigned"), "no sigstore signature found");
  ExpectDenied(Pull(**evaluator, "signed/otherkey"), "no signature verifies with the policy's key");
  ExpectDenied(Pull(**evaluator, "signed/retagged"), "is for manifest sha256:aaaa");
  ExpectDenied(Pull(**evaluator, "signed/identity"), "signed identity does not match (matchRepository)");
  EXPECT_TRUE(Pull(**evaluator, "plain/app").ok());
  ExpectDenied(Pull(**evaluator, "other/app"), "Policy `reject` rejects image");
  EXPECT_EQ(kbs_.calls(), 1);  // the key is fetched once
}

TEST_F(PolicyRegistryTest, SigstoreSignedWithoutIdentityChecksOnlyTheDigest) {
  auto evaluator = PolicyEvaluator::New(
      Policy(R"([{"type":"sigstoreSigned","keyPath":"kbs:///default/cosign-public-key/test"}])"), resolver_);
  ASSERT_TRUE(evaluator.ok()) << evaluator.status();
  EXPECT_TRUE(Pull(**evaluator, "signed/identity").ok());
  ExpectDenied(Pull(**evaluator, "signed/retagged"), "is for manifest");
}

TEST_F(PolicyRegistryTest, RejectAndInsecureAcceptAnything) {
  auto reject = PolicyEvaluator::New(R"({"default":[{"type":"reject"}]})", resolver_);
  ASSERT_TRUE(reject.ok());
  ExpectDenied(Pull(**reject, "signed/app"),
               "Policy `reject` rejects image " + registry_->host() + "/signed/app:latest");
  auto accept = PolicyEvaluator::New(R"({"default":[{"type":"insecureAcceptAnything"}]})", resolver_);
  ASSERT_TRUE(accept.ok());
  EXPECT_TRUE(Pull(**accept, "signed/unsigned").ok());
}

TEST_F(PolicyRegistryTest, SignedByWithSkopeoSignatures) {
  // A throw-away GPG key; skopeo --sign-by writes the signature into the lookaside directory
  // named by registries.d (image-pull spec §9.5).
  const std::string gnupg = dir_->path() + "/gnupg";
  std::filesystem::create_directories(gnupg);
  std::filesystem::permissions(gnupg, std::filesystem::perms::owner_all);
  CommandResult gen = RunCommand({"/usr/bin/gpg", "--homedir", gnupg, "--batch", "--passphrase", "", "--quick-gen-key",
                                  "CoCo Test <test@example.com>", "ed25519", "sign", "never"});
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  CommandResult list = RunCommand({"/usr/bin/gpg", "--homedir", gnupg, "--batch", "--with-colons", "--list-keys"});
  size_t fpr_at = list.out.find("\nfpr:");
  ASSERT_NE(fpr_at, std::string::npos) << list.out;
  std::string fpr = list.out.substr(fpr_at + 1);
  fpr = fpr.substr(0, fpr.find('\n'));
  fpr = fpr.substr(fpr.find_last_of(':', fpr.size() - 2) + 1);
  fpr.pop_back();  // trailing ':'
  CommandResult pub = RunCommand({"/usr/bin/gpg", "--homedir", gnupg, "--batch", "--export"});
  kbs_.Put("default/gpg/pub", pub.out);
  const std::string sigs = dir_->path() + "/sigs";
  WriteTreeFile(dir_->path() + "/regd", "local.yaml",
                "docker:\n  " + registry_->host() + ":\n    lookaside: file://" + sigs +
                    "\n    lookaside-staging: file://" + sigs + "\n");
  CommandResult sign = RunCommand(
      {"/usr/bin/env", "GNUPGHOME=" + gnupg, "_CONTAINERS_ROOTLESS_UID=1", "XDG_DATA_HOME=" + dir_->path() + "/xdg",
       "/usr/bin/skopeo", "--registries.d", dir_->path() + "/regd", "copy", "--dest-tls-verify=false", "--sign-by", fpr,
       "oci:" + builder_->layout() + ":app", "docker://" + registry_->host() + "/gpg/app:latest"},
      "", 300);
  RunCommand({"/usr/bin/gpgconf", "--homedir", gnupg, "--kill", "all"});
  ASSERT_EQ(sign.exit_code, 0) << sign.err;

  PolicyEvaluatorOptions options;
  options.sigstore_config_yaml = "docker:\n  " + registry_->host() + ":\n    sigstore: file://" + sigs + "\n";
  options.gnupg_parent_dir = dir_->path();
  const std::string host = registry_->host();
  auto evaluator =
      PolicyEvaluator::New(R"({"default":[{"type":"reject"}],"transports":{"docker":{")" + host +
                               R"(":[{"type":"signedBy","keyType":"GPGKeys","keyPath":"kbs:///default/gpg/pub"}]}}})",
                           resolver_, options);
  ASSERT_TRUE(evaluator.ok()) << evaluator.status();
  EXPECT_TRUE(Pull(**evaluator, "gpg/app").ok());
  ExpectDenied(Pull(**evaluator, "signed/app"), "`signedBy` requirement");
  // The image signed for gpg/app:latest does not vouch for the same digest under another name
  // (default signedIdentity matchRepoDigestOrExact).
  auto tag = ImageReference::Parse(host + "/gpg/app:other");
  ASSERT_TRUE(builder_->Push("app", host + "/gpg/app:other").ok());
  auto manifest = client_->GetManifest(*tag, "other", CallContext::WithTimeout(absl::Seconds(30)));
  ASSERT_TRUE(manifest.ok());
  ExpectDenied((*evaluator)->Verify(*tag, manifest->digest, *client_, CallContext::WithTimeout(absl::Seconds(30))),
               "signed identity does not match (matchRepoDigestOrExact)");
}

TEST_F(PolicyRegistryTest, UnreachableRegistryIsUnavailable) {
  auto evaluator = PolicyEvaluator::New(
      Policy(R"([{"type":"sigstoreSigned","keyPath":"kbs:///default/cosign-public-key/test"}])"), resolver_);
  ASSERT_TRUE(evaluator.ok());
  auto ref = ImageReference::Parse(registry_->host() + "/signed/app:latest");
  auto manifest = client_->GetManifest(*ref, "latest", CallContext::WithTimeout(absl::Seconds(30)));
  ASSERT_TRUE(manifest.ok());
  // A client for a port nothing listens on.
  auto dead = *OciRegistryClient::New(*http_, {"127.0.0.1:1", true, std::nullopt});
  auto dead_ref = ImageReference::Parse("127.0.0.1:1/signed/app:latest");
  auto policy = PolicyEvaluator::New(
      R"({"default":[{"type":"sigstoreSigned","keyPath":"kbs:///default/cosign-public-key/test"}]})", resolver_);
  ASSERT_TRUE(policy.ok());
  EXPECT_THAT((*policy)->Verify(*dead_ref, manifest->digest, *dead, CallContext::WithTimeout(absl::Seconds(30))),
              StatusIs(absl::StatusCode::kUnavailable));
}

}  // namespace
}  // namespace cdh::image
