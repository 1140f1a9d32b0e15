// End to end, real binaries: `confidential-data-hub` (cc_kbc, sample attester) <-> `kbs-dev`,
// over gRPC on a unix socket and HTTP on a loopback port 0.
// The sample attester stands in for a TEE: none exists on a test machine. kbs-dev checks the
// nonce and the report-data binding of the sample evidence, as Trustee's sample verifier does.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "absl/time/clock.h"
#include "common/json.h"
#include "common/strings.h"
#include "common/testing/status_matchers.h"
#include "http/curl_http_client.h"
#include "proto/api.grpc.pb.h"
#include "tests/daemon_fixture.h"
#include "tests/kbs_dev_process.h"
#include "tests/spec_vectors.h"
#include "tests/test_util.h"

namespace cdh::testing {
namespace {

using ::cdh::testing::IsOk;

class KbsE2eTest : public ::testing::Test {
 protected:
  void StartKbs(std::vector<std::string> extra = {}) {
    kbs_ = std::make_unique<KbsDevProcess>(dir_.path(), extra);
    ASSERT_FALSE(kbs_->url().empty()) << kbs_->log();
    ASSERT_EQ(kbs_->Post("/kbs/v0/resource/default/signing-key/sealed-secret", kKataPublicJwk), 200);
    ASSERT_EQ(kbs_->Post("/kbs/v0/resource/default/sealed-secret/test", "unsealed_secret"), 200);
    ASSERT_EQ(kbs_->Post("/kbs/v0/resource/default/key/1", "dataset-key-bytes"), 200);
  }
  std::string Config(const std::string& attestation) {
    grpc_socket_ = dir_.path() + "/run/grpc.sock";
    return dir_.Write("cdh.toml", "socket = \"unix://" + dir_.path() + "/run/ttrpc.sock\"\n" +
                                      "grpc_socket = \"unix://" + grpc_socket_ + "\"\n" +
                                      "[kbc]\nname = \"cc_kbc\"\nurl = \"" + kbs_->url() + "\"\n" + attestation +
                                      "[paths]\nbase_dir = \"" + dir_.path() + "/base\"\n");
  }
  std::unique_ptr<Daemon> StartDaemon() {
    auto d = std::make_unique<Daemon>(Config("[attestation]\ntee = \"sample\"\n"), DaemonLog());
    EXPECT_TRUE(d->WaitForSocket(grpc_socket_)) << ReadFile(DaemonLog());
    return d;
  }
  std::string DaemonLog() { return dir_.path() + "/daemon.log"; }
  std::shared_ptr<grpc::Channel> Channel() {
    return grpc::CreateChannel("unix:" + grpc_socket_, grpc::InsecureChannelCredentials());
  }
  grpc::Status GetResource(const std::string& uri, std::string* out) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    api::GetResourceRequest req;
    req.set_resourcepath(uri);
    api::GetResourceResponse resp;
    grpc::Status st = api::GetResourceService::NewStub(Channel())->GetResource(&ctx, req, &resp);
    *out = resp.resource();
    return st;
  }
  grpc::Status Unseal(const std::string& secret, std::string* plaintext) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    api::UnsealSecretInput req;
    req.set_secret(secret);
    api::UnsealSecretOutput resp;
    grpc::Status st = api::SealedSecretService::NewStub(Channel())->UnsealSecret(&ctx, req, &resp);
    *plaintext = resp.plaintext();
    return st;
  }
  int Handshakes() { return kbs_->Stats().value("attest", -1); }

  TempDir dir_;
  std::unique_ptr<KbsDevProcess> kbs_;
  std::string grpc_socket_;
};

TEST_F(KbsE2eTest, GetResourceAndUnsealWithKbsKidThroughOneHandshake) {
  StartKbs();
  auto daemon = StartDaemon();
  std::string out;
  grpc::Status st = GetResource("kbs:///default/key/1", &out);
  ASSERT_THAT(st, IsOk()) << st.error_message() << ReadFile(DaemonLog());
  EXPECT_EQ(out, "dataset-key-bytes");
  // The kata fixture: kid kbs:///default/signing-key/sealed-secret, value kbs:///default/sealed-secret/test.
  st = Unseal(kKataSealed, &out);
  ASSERT_THAT(st, IsOk()) << st.error_message();
  EXPECT_EQ(out, "unsealed_secret");
  EXPECT_EQ(Handshakes(), 1);
  std::string log = ReadFile(DaemonLog());
  EXPECT_THAT(std::string(log), ::testing::HasSubstr("attestation: TEE `sample`, configured")) << log;
  EXPECT_THAT(std::string(log), ::testing::HasSubstr("cc_kbc: attested to the KBS; token valid until")) << log;
  // Neither the secrets nor the credentials are ever logged.
  for (const char* never :
       {"unsealed_secret", "dataset-key-bytes", "Bearer", "kbs-session-id=", "eyJhbGciOiJFUzI1NiIs"}) {
    EXPECT_EQ(log.find(never), std::string::npos) << never;
  }
  // Codes through the API: missing resource -> NOT_FOUND.
  st = GetResource("kbs:///default/key/absent", &out);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND) << st.error_message();
}

TEST_F(KbsE2eTest, ConcurrentCallsShareOneHandshakeAndExpiryCausesExactlyOneMore) {
  StartKbs({"--token-lifetime", "3"});
  auto daemon = StartDaemon();
  auto burst = [&] {
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int i = 0; i < 32; ++i) {
      threads.emplace_back([&] {
        std::string out;
        if (GetResource("kbs:///default/key/1", &out).ok() && out == "dataset-key-bytes") ok.fetch_add(1);
      });
    }
    for (auto& t : threads) t.join();
    return ok.load();
  };
  EXPECT_EQ(burst(), 32);
  EXPECT_EQ(Handshakes(), 1) << kbs_->log();
  // Let the 3-second token run out (time must pass; nothing else to wait for).
  std::this_thread::sleep_for(std::chrono::milliseconds(3200));
  EXPECT_EQ(burst(), 32);
  EXPECT_EQ(Handshakes(), 2) << kbs_->log();
  EXPECT_EQ(kbs_->Stats().value("resource_get", -1), 64);  // no 401 round trips either
}

// The kata agent's path: ttrpc, through the same handlers, with the same attested client.
TEST_F(KbsE2eTest, KataAgentPathOverTtrpc) {
  StartKbs();
  auto daemon = StartDaemon();
  std::string tool = CdhToolBinary();
  std::string ttrpc = "unix://" + dir_.path() + "/run/ttrpc.sock";
  CommandResult got = RunCommand({tool, "--ttrpc", "--socket", ttrpc, "get-resource", "kbs:///default/key/1"});
  ASSERT_EQ(got.exit_code, 0) << got.err;
  EXPECT_EQ(got.out, "dataset-key-bytes");
  CommandResult unsealed = RunCommand({tool, "--ttrpc", "--socket", ttrpc, "unseal"}, kKataSealed);
  ASSERT_EQ(unsealed.exit_code, 0) << unsealed.err;
  EXPECT_EQ(unsealed.out, "unsealed_secret");
  CommandResult missing = RunCommand({tool, "--ttrpc", "--socket", ttrpc, "get-resource", "kbs:///default/key/nope"});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_THAT(std::string(missing.err), ::testing::HasSubstr("NOT_FOUND")) << missing.err;
  EXPECT_EQ(Handshakes(), 1);
}

// Cc_kbc with no TEE on this machine and no `tee = "sample"` -> the daemon refuses
// to start and says what it probed; it never falls back to sample evidence.
TEST_F(KbsE2eTest, NoTeeAndNoSampleConfiguredRefusesToStart) {
  if (std::filesystem::exists("/dev/tdx_guest") || std::filesystem::exists("/dev/tpm0") ||
      std::filesystem::exists("/sys/devices/platform/sev-guest") || std::filesystem::exists("/dev/csv-guest")) {
    GTEST_SKIP() << "this machine has a TEE or TPM device";
  }
  StartKbs();
  Daemon d(Config(""), DaemonLog());
  EXPECT_NE(d.Wait(absl::Seconds(20)), 0);
  std::string log = ReadFile(DaemonLog());
  EXPECT_THAT(std::string(log), ::testing::HasSubstr("no TEE detected")) << log;
  EXPECT_THAT(std::string(log), ::testing::HasSubstr("/dev/tdx_guest")) << log;
  EXPECT_THAT(std::string(log), ::testing::HasSubstr("tee = \"sample\"")) << log;
  EXPECT_EQ(kbs_->Stats().value("auth", -1), 0);  // no sample evidence was ever sent
}

}  // namespace
}  // namespace cdh::testing
