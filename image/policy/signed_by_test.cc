// signedBy (GPG simple signing) against signatures made by the real `gpg` (GnuPG 2.2 from
// Debian) in the layout skopeo --sign-by writes to a lookaside directory
// (containers/image docker/registries_d.go): <dir>/<repo path>@sha256=<hex>/signature-<n>.
#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/base64.h"
#include "common/testing/status_matchers.h"
#include "http/curl_http_client.h"
#include "image/policy/gpg_keyring.h"
#include "image/policy/policy_evaluator.h"
#include "image/policy/testing/in_memory_registry.h"
#include "resources/fake_resource_provider.h"
#include "tests/test_util.h"

namespace cdh::image {
namespace {

using ::cdh::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

using cdh::testing::RunCommand;
using cdh::testing::TempDir;

constexpr char kRepo[] = "127.0.0.1:5000/test/app";

std::string Payload(const std::string& reference, const std::string& digest,
                    const std::string& type = "atomic container signature") {
  return R"({"critical":{"identity":{"docker-reference":")" + reference + R"("},"image":{"docker-manifest-digest":")" +
         digest + R"("},"type":")" + type + R"("},"optional":{"creator":"atomic 5.23.1","timestamp":1700000000}})";
}

// A GnuPG home with one signing key, made with the gpg CLI. Kills its agent on destruction.
class GpgSigner {
 public:
  explicit GpgSigner(const std::string& home, const std::string& uid) : home_(home) {
    std::filesystem::create_directories(home_);
    std::filesystem::permissions(home_, std::filesystem::perms::owner_all);
    auto r = Gpg({"--passphrase", "", "--quick-gen-key", uid, "ed25519", "sign", "never"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
  }
  ~GpgSigner() { RunCommand({"/usr/bin/gpgconf", "--homedir", home_, "--kill", "all"}); }

  std::string ExportPublic() {
    auto r = Gpg({"--export"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }
  std::string Sign(const std::string& payload) {
    auto r = Gpg({"--sign"}, payload);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }

 private:
  cdh::testing::CommandResult Gpg(std::vector<std::string> args, const std::string& input = "") {
    std::vector<std::string> argv = {"/usr/bin/gpg", "--homedir",       home_,     "--batch",
                                     "--yes",        "--pinentry-mode", "loopback"};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv, input, 60);
  }
  std::string home_;
};

class SignedByTest : public ::testing::Test {
 protected:
  void SetUp() override {
    signer_ = std::make_unique<GpgSigner>(tmp_.path() + "/signer", "CoCo Test <test@example.com>");
    other_ = std::make_unique<GpgSigner>(tmp_.path() + "/other", "Other <other@example.com>");
    kbs_.Put("default/gpg/pub", signer_->ExportPublic());
    digest_ = registry_.PutManifest(kRepo, "gpg", R"({"schemaVersion":2,"layers":[]})");
    std::filesystem::create_directories(tmp_.path() + "/gnupg-tmp");
  }

  std::unique_ptr<PolicyEvaluator> Evaluator(const std::string& identity = "") {
    std::string policy = R"({"default":[{"type":"reject"}],"transports":{"docker":{"127.0.0.1:5000/test":[
        {"type":"signedBy","keyType":"GPGKeys","keyPath":"kbs:///default/gpg/pub")" +
                         (identity.empty() ? "" : ",\"signedIdentity\":" + identity) + "}]}}}";
    PolicyEvaluatorOptions options;
    options.sigstore_config_yaml = "docker:\n  127.0.0.1:5000/test:\n    lookaside: file://" + tmp_.path() + "/sigs\n";
    options.gnupg_parent_dir = tmp_.path() + "/gnupg-tmp";
    auto e = PolicyEvaluator::New(policy, resolver_, options);
    EXPECT_TRUE(e.ok()) << e.status();
    return *std::move(e);
  }

  void PutSignature(int n, const std::string& bytes) {
    std::string dir = tmp_.path() + "/sigs/test/app@sha256=" + digest_.hex();
    std::filesystem::create_directories(dir);
    std::ofstream(dir + "/signature-" + std::to_string(n), std::ios::binary) << bytes;
  }

  absl::Status Verify(PolicyEvaluator& e, const std::string& image = std::string(kRepo) + ":gpg") {
    return e.Verify(*ImageReference::Parse(image), digest_, registry_, CallContext{});
  }

  void ExpectDenied(const std::string& reason, const std::string& image = std::string(kRepo) + ":gpg") {
    absl::Status s = Verify(*Evaluator(), image);
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kPermissionDenied)) << s;
    EXPECT_THAT(std::string(s.message()), HasSubstr(reason)) << s;
    EXPECT_THAT(std::string(s.message()), HasSubstr("`signedBy` requirement")) << s;
  }

  TempDir tmp_;
  std::unique_ptr<GpgSigner> signer_;
  std::unique_ptr<GpgSigner> other_;
  resources::FakeResourceProvider kbs_;
  ResourceKeyResolver resolver_{kbs_};
  testing::InMemoryRegistry registry_;
  Digest digest_;
};

TEST_F(SignedByTest, ValidSignatureIsAcceptedAndTheKeyringIsRemoved) {
  PutSignature(1, signer_->Sign(Payload(std::string(kRepo) + ":gpg", digest_.String())));
  absl::Status s = Verify(*Evaluator());
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_TRUE(std::filesystem::is_empty(tmp_.path() + "/gnupg-tmp"));
  // No gpg-agent (or any other process) was left running for the throw-away keyring.
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::string cmdline = cdh::testing::ReadFile(entry.path().string() + "/cmdline");
    EXPECT_THAT(cmdline, Not(HasSubstr(tmp_.path() + "/gnupg-tmp"))) << cmdline;
  }
}

TEST_F(SignedByTest, MissingSignatureIsDenied) { ExpectDenied("no signature found in the lookaside"); }

TEST_F(SignedByTest, SignatureByAnotherKeyIsDenied) {
  PutSignature(1, other_->Sign(Payload(std::string(kRepo) + ":gpg", digest_.String())));
  ExpectDenied("OpenPGP signature is not good");
}

TEST_F(SignedByTest, TamperedSignatureIsDenied) {
  std::string sig = signer_->Sign(Payload(std::string(kRepo) + ":gpg", digest_.String()));
  for (size_t pos : {sig.size() / 2, sig.size() - 2}) {
    std::string bad = sig;
    bad[pos] ^= 0x01;
    PutSignature(1, bad);
    absl::Status s = Verify(*Evaluator());
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kPermissionDenied)) << pos << " " << s;
  }
  PutSignature(1, "not an OpenPGP message");
  ExpectDenied("not a valid OpenPGP signed message");
}

TEST_F(SignedByTest, WrongDigestTypeOrIdentityIsDenied) {
  PutSignature(1, signer_->Sign(Payload(std::string(kRepo) + ":gpg", "sha256:" + std::string(64, 'e'))));
  ExpectDenied("is for manifest sha256:eee");
  PutSignature(
      1, signer_->Sign(Payload(std::string(kRepo) + ":gpg", digest_.String(), "cosign container image signature")));
  ExpectDenied("has type `cosign container image signature`");
  // Default matchRepoDigestOrExact: a signature for another tag does not vouch for this one.
  PutSignature(1, signer_->Sign(Payload(std::string(kRepo) + ":other", digest_.String())));
  ExpectDenied("signed identity does not match (matchRepoDigestOrExact)");
  // ... unless the policy says matchRepository.
  EXPECT_TRUE(Verify(*Evaluator(R"({"type":"matchRepository"})")).ok());
}

TEST_F(SignedByTest, ALaterValidSignatureIsFound) {
  PutSignature(1, other_->Sign(Payload(std::string(kRepo) + ":gpg", digest_.String())));
  PutSignature(2, signer_->Sign(Payload(std::string(kRepo) + ":gpg", digest_.String())));
  EXPECT_TRUE(Verify(*Evaluator()).ok());
}

TEST_F(SignedByTest, LookasideMustBeConfiguredAndLocal) {
  std::string policy = R"({"default":[{"type":"signedBy","keyType":"GPGKeys","keyPath":"kbs:///default/gpg/pub"}]})";
  auto none = PolicyEvaluator::New(policy, resolver_);
  ASSERT_TRUE(none.ok());
  absl::Status s = Verify(**none);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kPermissionDenied)) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("no signature lookaside is configured")) << s;
  PolicyEvaluatorOptions http;
  http.sigstore_config_yaml = "default-docker:\n  lookaside: https://sigs.example.com\n";
  auto remote = PolicyEvaluator::New(policy, resolver_, http);
  ASSERT_TRUE(remote.ok());
  EXPECT_THAT(Verify(**remote), StatusIs(absl::StatusCode::kUnimplemented));
}

TEST_F(SignedByTest, HttpLookaside) {
  // The lookaside directory served over HTTP on 127.0.0.1 (containers/image reads http(s)
  // lookasides; the evaluator does when given an HTTP client).
  PutSignature(1, signer_->Sign(Payload(std::string(kRepo) + ":gpg", digest_.String())));
  httplib::Server server;
  ASSERT_TRUE(server.set_mount_point("/", tmp_.path() + "/sigs"));
  int port = server.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread thread([&] { server.listen_after_bind(); });
  while (!server.is_running()) std::this_thread::yield();
  auto http = http::CurlHttpClient::New({});
  ASSERT_TRUE(http.ok());
  std::string policy = R"({"default":[{"type":"signedBy","keyType":"GPGKeys","keyPath":"kbs:///default/gpg/pub"}]})";
  PolicyEvaluatorOptions options;
  options.sigstore_config_yaml = "default-docker:\n  lookaside: http://127.0.0.1:" + std::to_string(port) + "/\n";
  options.gnupg_parent_dir = tmp_.path() + "/gnupg-tmp";
  options.lookaside_http = http->get();
  auto evaluator = PolicyEvaluator::New(policy, resolver_, options);
  ASSERT_TRUE(evaluator.ok()) << evaluator.status();
  absl::Status ok = Verify(**evaluator);
  EXPECT_TRUE(ok.ok()) << ok;
  // Another repository has no signature there: 404 ends the search.
  Digest other = registry_.PutManifest("127.0.0.1:5000/test/other", "gpg", "{}");
  absl::Status denied =
      (*evaluator)->Verify(*ImageReference::Parse("127.0.0.1:5000/test/other:gpg"), other, registry_, CallContext{});
  EXPECT_THAT(denied, StatusIs(absl::StatusCode::kPermissionDenied)) << denied;
  EXPECT_THAT(std::string(denied.message()), HasSubstr("no signature found")) << denied;
  server.stop();
  thread.join();
  // The server is gone: the lookaside is unreachable, which is not a denial.
  EXPECT_THAT(Verify(**evaluator), StatusIs(absl::StatusCode::kUnavailable));
}

TEST(GpgKeyringTest, RefusesKeyDataThatIsNoKey) {
  TempDir tmp;
  auto ring = GpgKeyring::New({"not a key"}, tmp.path());
  EXPECT_THAT(ring.status(), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_TRUE(std::filesystem::is_empty(tmp.path()));
}

}  // namespace
}  // namespace cdh::image
