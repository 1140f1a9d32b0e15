// End to end with a real TPM (swtpm on unix sockets, started by the test): the daemon with the
// `tpm` attester fetches a resource from kbs-dev, whose development `tpm` verifier checks the
// quote (attesters.md §7); and a KBS client whose evidence is tampered with, stale or carries a
// wrong PCR list is denied. The TPM is not bound to a TEE: kbs-dev trusts any AK (development).
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "attestation/runtime_measurement.h"
#include "attestation/tpm/esys_tpm.h"
#include "attestation/tpm/swtpm_fixture.h"
#include "attestation/tpm_attester.h"
#include "attestation/verifier/evidence_verifier.h"
#include "common/base64.h"
#include "common/json.h"
#include "common/strings.h"
#include "common/testing/process.h"
#include "common/testing/status_matchers.h"
#include "crypto/hash.h"
#include "http/curl_http_client.h"
#include "kbs-client/kbs_client.h"
#include "kbs-dev/kbs_dev_server.h"
#include "proto/api.grpc.pb.h"
#include "tests/daemon_fixture.h"
#include "tests/guest_launch.h"
#include "tests/test_util.h"

namespace cdh::testing {
namespace {

using ::cdh::testing::IsOk;

using attestation::Attester;

// Wraps the real tpm attester and corrupts its evidence the way an attacker or a bug would.
class TamperingAttester : public Attester {
 public:
  enum class Mode { kNone, kFlipQuote, kStaleNonce, kWrongPcrs };
  TamperingAttester(std::unique_ptr<Attester> inner, Mode mode) : inner_(std::move(inner)), mode_(mode) {}
  std::string_view tee() const override { return inner_->tee(); }
  absl::StatusOr<nlohmann::json> GetEvidence(std::string_view report_data, const CallContext& ctx) override {
    // Stale nonce: evidence made for an earlier session's runtime data.
    std::string rd = mode_ == Mode::kStaleNonce ? crypto::Hash(crypto::HashAlgorithm::kSha384, "an earlier session")
                                                : std::string(report_data);
    auto ev = inner_->GetEvidence(rd, ctx);
    if (!ev.ok()) return ev;
    if (mode_ == Mode::kFlipQuote) {
      std::string msg = *Base64StdDecode((*ev)["tpm_quote"]["message"].get<std::string>());
      msg[msg.size() - 5] ^= 0x01;  // inside pcrDigest
      (*ev)["tpm_quote"]["message"] = Base64StdEncode(msg);
    } else if (mode_ == Mode::kWrongPcrs) {
      (*ev)["tpm_quote"]["pcrs"][7] = std::string(64, 'e');
    }
    return ev;
  }

 private:
  std::unique_ptr<Attester> inner_;
  Mode mode_;
};

class TpmKbsE2eTest : public attestation::SwtpmFixture {
 protected:
  void SetUp() override {
    SwtpmFixture::SetUp();
    if (HasFatalFailure()) return;
    CloseTpm();  // the daemon and FetchWith open their own
    kbsdev::KbsDevOptions options;
    options.resource_dir = dir_.path() + "/kbs-resources";
    options.insecure_admin = true;
    options.verifiers = attestation::DevelopmentVerifiers();
    auto kbs = kbsdev::KbsDevServer::Start(options);
    ASSERT_THAT(kbs, IsOk());
    kbs_ = std::move(kbs).value();
    auto http = std::move(http::CurlHttpClient::New({})).value();
    auto r = http->Send({"POST",
                         kbs_->url() + "/kbs/v0/resource/default/key/1",
                         {{"Content-Type", "application/octet-stream"}},
                         "tpm-attested-key"},
                        absl::Now() + absl::Seconds(10));
    ASSERT_TRUE(r.ok() && r->status == 200);
  }

  absl::StatusOr<SecretBytes> FetchWith(TamperingAttester::Mode mode, nlohmann::json init_data = nullptr) {
    auto tpm = attestation::EsysTpm::Open(rig_->tcti());
    if (!tpm.ok()) return tpm.status();
    auto inner = std::make_unique<attestation::TpmAttester>(std::shared_ptr<attestation::Tpm>(std::move(tpm).value()),
                                                            attestation::kDefaultTpmAkHandle);
    kbs::KbsConnectionConfig connection;
    connection.url = kbs_->url();
    kbs::KbsClientOptions options;
    options.init_data = std::move(init_data);
    auto client =
        kbs::NewCurlKbsClient(connection, options, std::make_unique<TamperingAttester>(std::move(inner), mode));
    if (!client.ok()) return client.status();
    return (*client)->GetResource("resource", "default/key/1", std::nullopt,
                                  CallContext::WithTimeout(absl::Seconds(30)));
  }

  TempDir dir_;
  std::unique_ptr<kbsdev::KbsDevServer> kbs_;
};

constexpr char kInitDataSha256[] =
    "version = \"0.1.0\"\nalgorithm = \"sha256\"\n[data]\n\"cdh.toml\" = '''\n[kbc]\nname = \"cc_kbc\"\n'''\n";

std::string DaemonConfig(const TempDir& dir, const std::string& kbs_url, const std::string& tcti,
                         const std::string& init_data_path) {
  return dir.Write("cdh.toml", "socket = \"unix://" + dir.path() + "/run/ttrpc.sock\"\ngrpc_socket = \"unix://" +
                                   dir.path() + "/run/grpc.sock\"\n[kbc]\nname = \"cc_kbc\"\nurl = \"" + kbs_url +
                                   "\"\n[attestation]\ntee = \"tpm\"\ntpm_tcti = \"" + tcti +
                                   "\"\ntpm_ak_handle = \"0x81010002\"\ninit_data_path = \"" + init_data_path +
                                   "\"\n[paths]\nbase_dir = \"" + dir.path() + "/base\"\n");
}

// With init data (sha256): the daemon extends PCR 8 at startup and sends the TOML in the RCAR
// `init-data` member; kbs-dev's verifier checks PCR 8 == SHA-256(0^32 ‖ digest).
TEST_F(TpmKbsE2eTest, DaemonWithTpmAttesterFetchesAResource) {
  std::string grpc_socket = dir_.path() + "/run/grpc.sock";
  std::string config = DaemonConfig(dir_, kbs_->url(), rig_->tcti(), dir_.Write("initdata.toml", kInitDataSha256));
  std::string log = dir_.path() + "/daemon.log";
  auto daemon = std::make_unique<Daemon>(config, log);
  ASSERT_TRUE(daemon->WaitForSocket(grpc_socket)) << ReadFile(log);
  auto channel = grpc::CreateChannel("unix:" + grpc_socket, grpc::InsecureChannelCredentials());
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  api::GetResourceRequest req;
  req.set_resourcepath("kbs:///default/key/1");
  api::GetResourceResponse resp;
  grpc::Status st = api::GetResourceService::NewStub(channel)->GetResource(&ctx, req, &resp);
  ASSERT_THAT(st, IsOk()) << st.error_message() << "\n" << ReadFile(log);
  EXPECT_EQ(resp.resource(), "tpm-attested-key");
  EXPECT_EQ(kbs_->stats().attest, 1u);
  EXPECT_THAT(std::string(ReadFile(log)), ::testing::HasSubstr("attestation: TEE `tpm`")) << ReadFile(log);
  EXPECT_THAT(std::string(ReadFile(log)), ::testing::HasSubstr("bound to the TEE")) << ReadFile(log);
  daemon.reset();  // swtpm serves one connection at a time
  auto tpm = attestation::EsysTpm::Open(rig_->tcti());
  ASSERT_THAT(tpm, IsOk());
  EXPECT_EQ((*(*tpm)->ReadPcrs())[8], crypto::Sha256(std::string(32, '\0') + crypto::Sha256(kInitDataSha256)));
}

// Init data whose algorithm cannot be bound to PCR 8 stops the daemon at startup, naming the file.
TEST_F(TpmKbsE2eTest, UnbindableInitDataStopsTheDaemon) {
  std::string toml = kInitDataSha256;
  toml.replace(toml.find("sha256"), 6, "sha384");
  std::string path = dir_.Write("initdata.toml", toml);
  Daemon daemon(DaemonConfig(dir_, kbs_->url(), rig_->tcti(), path), dir_.path() + "/daemon.log");
  EXPECT_NE(daemon.Wait(absl::Seconds(20)), 0);
  std::string log = ReadFile(dir_.path() + "/daemon.log");
  EXPECT_THAT(std::string(log), ::testing::HasSubstr(path)) << log;
  EXPECT_THAT(std::string(log), ::testing::HasSubstr("sha256")) << log;
  EXPECT_EQ(kbs_->stats().auth, 0u);
}

// A client claiming init data its TPM's PCR 8 does not hold is denied.
TEST_F(TpmKbsE2eTest, UnboundInitDataDenied) {
  nlohmann::json init = {{"format", "toml"}, {"body", kInitDataSha256}};
  EXPECT_THAT(FetchWith(TamperingAttester::Mode::kNone, init), StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_EQ(kbs_->stats().attest, 0u);
  EXPECT_GT(kbs_->stats().attest_failed, 0u);
}

TEST_F(TpmKbsE2eTest, GenuineClientSucceedsTamperedStaleOrWrongPcrsDenied) {
  auto ok = FetchWith(TamperingAttester::Mode::kNone);
  ASSERT_THAT(ok, IsOk());
  EXPECT_EQ(ok->RevealString(), "tpm-attested-key");
  for (auto mode : {TamperingAttester::Mode::kFlipQuote, TamperingAttester::Mode::kStaleNonce,
                    TamperingAttester::Mode::kWrongPcrs}) {
    uint64_t failed_before = kbs_->stats().attest_failed;
    auto denied = FetchWith(mode);
    EXPECT_THAT(denied, StatusIs(absl::StatusCode::kUnauthenticated)) << static_cast<int>(mode);
    EXPECT_GT(kbs_->stats().attest_failed, failed_before) << static_cast<int>(mode);
  }
  EXPECT_EQ(kbs_->stats().attest, 1u);  // only the genuine client got a token
}

// The attestation agent (upstream's ttrpc-aa entry point) with the `tpm` attester on swtpm, and the
// REST front joined to it: Debian's Go ttrpc client calls every method (tests/go/src/aainterop).
// The answers are the TPM's: GetTeeType `tpm`; the evidence verifies as a TPM quote over the
// client's runtime data (kbs-dev's development verifier); ExtendRuntimeMeasurement answers OK and,
// as upstream's tpm attester, extends the sha256 PCR (init_pcr 23 here: swtpm refuses 17-22 at
// locality 0) with the event's digest, and the event log replays to it; GetToken("kbs") comes from
// a TPM-attested session that kbs-dev accepts. GET /aa/evidence gives the same kind of evidence.
TEST_F(TpmKbsE2eTest, AttestationAgentWithTpmAttesterAnswersEveryMethod) {
  std::string run = dir_.path() + "/run";
  std::string aa_socket = run + "/attestation-agent/attestation-agent.sock";
  std::string eventlog = dir_.File("eventlog");
  std::string aa_toml = dir_.Write(
      "aa.toml", StrCat("[token_configs.kbs]\nurl = \"", kbs_->url(), "\"\n[eventlog_config]\nenable_eventlog = true\n",
                        "init_pcr = 23\nlog_path = \"", eventlog, "\"\n[attestation]\ntee = \"tpm\"\ntpm_tcti = \"",
                        rig_->tcti(), "\"\ntpm_ak_handle = \"0x81010002\"\n"));
  std::string log = dir_.File("daemon.log");
  std::vector<std::unique_ptr<ChildProcess>> processes;
  auto aa = ChildProcess::Start(
      {RoleBinary("attestation-agent"), "--attestation_sock", "unix://" + aa_socket, "-c", aa_toml}, {.log_path = log});
  ASSERT_THAT(aa.status(), IsOk());
  processes.push_back(std::move(*aa));
  ASSERT_TRUE(WaitUntil([&] { return access(aa_socket.c_str(), F_OK) == 0; })) << ReadFile(log);
  int port = FreeLoopbackPort();
  auto rest = ChildProcess::Start({RoleBinary("api-server-rest"), "--features", "attestation", "--bind",
                                   StrCat("127.0.0.1:", port), "--cdh_addr", StrCat("unix://", run, "/cdh.sock")},
                                  {.log_path = log});
  ASSERT_THAT(rest.status(), IsOk());
  processes.push_back(std::move(*rest));
  auto http = std::move(http::CurlHttpClient::New({})).value();
  auto get = [&](const std::string& path) {
    auto r = http->Send({"GET", StrCat("http://127.0.0.1:", port, path), {}, ""}, absl::Now() + absl::Seconds(30));
    return r.ok() ? *r : http::HttpResponse{};
  };
  ASSERT_TRUE(WaitUntil([&] { return get("/info").status == 200; })) << ReadFile(log);

  std::string evidence_file = dir_.File("evidence.json");
  CommandResult client = RunCommand({CDH_AA_INTEROP_PATH, "-sock", aa_socket, "-tee", "tpm", "-kbs-url", kbs_->url(),
                                     "-measurement", "0", "-evidence-out", evidence_file});
  EXPECT_EQ(client.exit_code, 0) << client.out << client.err << ReadFile(log);
  EXPECT_EQ(kbs_->stats().attest, 1u);  // GetToken: one TPM-attested handshake

  // GetEvidence: a TPM quote over the runtime data, as the broker checks it.
  auto verifier = attestation::NewTpmVerifier();
  auto evidence = ParseJson(ReadFile(evidence_file), "evidence");
  ASSERT_THAT(evidence.status(), IsOk());
  EXPECT_THAT(verifier->Verify(*evidence, "aainterop-runtime-data", std::nullopt), IsOk());
  EXPECT_THAT(verifier->Verify(*evidence, "other-runtime-data", std::nullopt),
              StatusIs(absl::StatusCode::kUnauthenticated));
  // REST: GET /aa/evidence, the same attester.
  http::HttpResponse r = get("/aa/evidence?runtime_data=rest-runtime-data");
  ASSERT_EQ(r.status, 200) << r.body;
  auto rest_evidence = ParseJson(r.body, "evidence");
  ASSERT_THAT(rest_evidence.status(), IsOk());
  EXPECT_THAT(verifier->Verify(*rest_evidence, "rest-runtime-data", std::nullopt), IsOk());
  EXPECT_EQ(get("/info").body.find("\"tee\":\"tpm\"") != std::string::npos, true);

  // ExtendRuntimeMeasurement landed in PCR 23, and the event log replays to it.
  EXPECT_EQ(processes[0]->Stop(absl::Seconds(15)), 0);  // the daemon; the REST entry point exits with it
  EXPECT_EQ(processes[1]->Wait(absl::Seconds(15)), std::optional<int>(0));
  auto tpm = attestation::EsysTpm::Open(rig_->tcti());
  ASSERT_THAT(tpm, IsOk());
  auto pcrs = (*tpm)->ReadPcrs();
  ASSERT_THAT(pcrs, IsOk());
  EXPECT_NE((*pcrs)[23], std::string(32, '\0'));
  auto replayed = attestation::ReplayAael(crypto::HashAlgorithm::kSha256, ReadFile(eventlog));
  ASSERT_THAT(replayed, IsOk());
  ASSERT_EQ(replayed->count(23), 1u);
  EXPECT_EQ(replayed->at(23), (*pcrs)[23]);
  EXPECT_THAT(ReadFile(eventlog), ::testing::HasSubstr("aainterop.example Check {\"k\":\"v\"}"));
}

}  // namespace
}  // namespace cdh::testing
