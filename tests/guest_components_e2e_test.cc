// End to end, real binaries: one daemon serving the attestation agent, the data hub and the REST
// front, launched in the kata agent's order with its arguments and socket waits
// (kata-containers src/agent/src/main.rs: attestation-agent --attestation_sock <uri> -c aa.toml,
// wait for its socket; confidential-data-hub -c cdh.toml, wait for its socket; api-server-rest
// --features <f>), against `kbs-dev` on a loopback port. Paths live in a temp directory instead
// of /run (tests/guest_components/kata_launch_test.sh runs kata's exact paths in a namespace).
// The `sample` attester stands in for a TEE: none exists on a test machine.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "common/json.h"
#include "common/strings.h"
#include "common/testing/process.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "http/curl_http_client.h"
#include "proto/attestation_agent.grpc.pb.h"
#include "tests/guest_launch.h"
#include "tests/kbs_dev_process.h"
#include "tests/proto/reflection_client.grpc.pb.h"
#include "tests/spec_vectors.h"
#include "tests/test_util.h"

namespace cdh::testing {
namespace {

using ::testing::HasSubstr;

// The executable a process runs now (/proc/<pid>/exe); "" when it is gone.
std::string ExePath(pid_t pid) {
  char buf[4096];
  ssize_t n = ::readlink(StrCat("/proc/", pid, "/exe").c_str(), buf, sizeof(buf));
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

std::string OwnCgroup() {
  std::string all = ReadFile("/proc/self/cgroup");
  size_t at = all.find("0::");
  if (at == std::string::npos) return "";
  std::string path = all.substr(at + 3);
  return path.substr(0, path.find('\n'));
}

class GuestComponentsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kbs_ = std::make_unique<KbsDevProcess>(dir_.path(), std::vector<std::string>{});
    ASSERT_FALSE(kbs_->url().empty()) << kbs_->log();
    ASSERT_EQ(kbs_->Post("/kbs/v0/resource/default/key/1", "dataset-key-bytes"), 200);
    ASSERT_EQ(kbs_->Post("/kbs/v0/resource/default/key/2", "second-key"), 200);
    ASSERT_EQ(kbs_->Post("/kbs/v0/resource/default/sealed-secret/test", "unsealed_secret"), 200);
    http_ = std::move(http::CurlHttpClient::New({})).value();
  }
  void TearDown() override {
    for (auto it = children_.rbegin(); it != children_.rend(); ++it) (*it)->Stop(absl::Seconds(15));
  }

  std::string Run() const { return dir_.path() + "/run"; }
  std::string AaSocket() const { return Run() + "/attestation-agent/attestation-agent.sock"; }
  std::string CdhSocket() const { return Run() + "/cdh.sock"; }
  std::string Log() const { return ReadFile(dir_.File("daemon.log")); }

  // Starts one entry point, its output appended to daemon.log.
  ChildProcess* Spawn(std::vector<std::string> argv) {
    auto child = ChildProcess::Start(argv, {.log_path = dir_.File("daemon.log")});
    EXPECT_THAT(child.status(), IsOk());
    if (!child.ok()) return nullptr;
    children_.push_back(std::move(*child));
    return children_.back().get();
  }

  std::string AaToml() {
    return dir_.Write("initdata/aa.toml", StrCat("[token_configs.kbs]\nurl = \"", kbs_->url(),
                                                 "\"\n[eventlog_config]\nenable_eventlog = true\n", "log_path = \"",
                                                 dir_.File("eventlog"), "\"\n", "[attestation]\ntee = \"sample\"\n"));
  }

  // Launches the three as the kata agent does (tests/guest_launch.h). `rest_api` is appended to cdh.toml.
  void LaunchAll(const std::string& rest_api = "") {
    GuestLaunch launch;
    launch.aa_socket = AaSocket();
    launch.aa_config = AaToml();
    launch.cdh_socket = CdhSocket();
    launch.cdh_config =
        dir_.Write("initdata/cdh.toml",
                   StrCat("socket = \"unix://", CdhSocket(), "\"\ngrpc_socket = \"\"\n[kbc]\nname = \"cc_kbc\"\n",
                          "url = \"", kbs_->url(), "\"\n[attestation]\ntee = \"sample\"\n[paths]\nbase_dir = \"",
                          dir_.File("base"), "\"\n", rest_api));
    launch.rest_cdh_socket = CdhSocket();
    launch.rest_port = port_ = FreeLoopbackPort();
    launch.log_path = dir_.File("daemon.log");
    ASSERT_THAT(LaunchAsKata(launch, children_), IsOk()) << Log();
    ASSERT_TRUE(WaitUntil([&] { return Get("/info").status == 200; })) << Log();
  }

  http::HttpResponse Send(const std::string& method, const std::string& path, const std::string& body = "") {
    auto r = http_->Send({method, StrCat("http://127.0.0.1:", port_, path), {}, body}, absl::Now() + absl::Seconds(60));
    if (!r.ok()) return http::HttpResponse{};
    return *r;
  }
  http::HttpResponse Get(const std::string& path) { return Send("GET", path); }
  int Handshakes() { return kbs_->Stats().value("attest", -1); }

  TempDir dir_{"cdh-gc"};
  std::unique_ptr<KbsDevProcess> kbs_;
  std::unique_ptr<http::HttpClient> http_;
  std::vector<std::unique_ptr<ChildProcess>> children_;
  int port_ = 0;
};

TEST_F(GuestComponentsTest, EveryRoleAnswersThroughOneDaemonAndOneAttestation) {
  ASSERT_NO_FATAL_FAILURE(LaunchAll());
  // The attestation agent's socket is owner-only, as the data hub's.
  struct stat st {};
  ASSERT_EQ(stat(AaSocket().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);

  // AA over ttrpc from Debian's Go client: every method; the GetToken token is accepted by kbs-dev.
  // The sample TEE has no runtime measurement: with the event log enabled, NOT_SUPPORTED (1).
  CommandResult aa = RunCommand(
      {CDH_AA_INTEROP_PATH, "-sock", AaSocket(), "-tee", "sample", "-kbs-url", kbs_->url(), "-measurement", "1"});
  EXPECT_EQ(aa.exit_code, 0) << aa.out << aa.err << Log();

  // CDH over ttrpc, as the kata agent calls it.
  CommandResult got =
      RunCommand({CdhToolBinary(), "--ttrpc", "--socket", CdhSocket(), "get-resource", "kbs:///default/key/1"});
  EXPECT_EQ(got.exit_code, 0) << got.err;
  EXPECT_THAT(got.out, HasSubstr("dataset-key-bytes"));

  // REST: upstream's routes, bodies and codes.
  http::HttpResponse r = Get("/cdh/resource/default/key/1");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "dataset-key-bytes");
  EXPECT_EQ(r.HeaderValues("content-type"), std::vector<std::string>{"application/octet-stream"});
  r = Get("/aa/token?token_type=kbs");
  EXPECT_EQ(r.status, 200);
  auto token = ParseJson(r.body, "token");
  ASSERT_THAT(token.status(), IsOk());
  EXPECT_TRUE((*token)["token"].is_string());
  r = Get("/aa/evidence?runtime_data=xyz");
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(r.body, HasSubstr("\"report_data\":\"eHl6\""));
  r = Get("/aa/evidence?runtime_data=eHl6&encoding=base64");  // URL-safe base64 of "xyz"
  EXPECT_THAT(r.body, HasSubstr("\"report_data\":\"eHl6\""));
  r = Get("/aa/additional-evidence?runtime_data=xyz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "");
  r = Send("POST", "/aa/aael", R"({"domain":"example.org","operation":"Launch","content":"x"})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"success":"false","message": "The platform does not support runtime measurement"})");
  r = Get("/info");
  auto info = ParseJson(r.body, "info");
  ASSERT_THAT(info.status(), IsOk());
  EXPECT_EQ((*info)["tee"], "sample");
  EXPECT_EQ((*info)["feature"], "all");
  // Errors as upstream: missing parameter 400, bad encoding 400, unknown route 404, handler 500.
  EXPECT_EQ(Get("/aa/token").status, 400);
  EXPECT_EQ(Get("/aa/evidence?runtime_data=%21%21&encoding=base64").status, 400);
  EXPECT_EQ(Get("/aa/evidence?runtime_data=x&encoding=hex").status, 400);
  r = Get("/cdh/unknown/x");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, "URL NOT FOUND");
  EXPECT_EQ(Send("POST", "/info").status, 405);
  r = Get("/cdh/resource/default/key/absent");
  EXPECT_EQ(r.status, 500);
  EXPECT_THAT(r.body, HasSubstr("Get Resource failed"));

  // Concurrent callers.
  std::atomic<int> ok{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 8; ++t) {
    callers.emplace_back([&] {
      for (int i = 0; i < 5; ++i) {
        http::HttpResponse c = Get(i % 2 ? "/cdh/resource/default/key/2" : "/aa/token?token_type=kbs");
        if (c.status == 200 && !c.body.empty()) ++ok;
      }
    });
  }
  for (auto& c : callers) c.join();
  EXPECT_EQ(ok.load(), 40);

  // One RCAR handshake for everything above, through all three roles.
  EXPECT_EQ(Handshakes(), 1) << Log();
  std::string log = Log();
  EXPECT_THAT(log, HasSubstr("no [rest_api] policy"));
  for (const char* never : {"dataset-key-bytes", "second-key", "eyJhbGciOiJFUzI1NiIs"}) {
    EXPECT_EQ(log.find(never), std::string::npos) << never;
  }
}

TEST_F(GuestComponentsTest, RestPolicyAllowsAndRefusesByRuleAndCallerCgroup) {
  std::string own = OwnCgroup();
  ASSERT_FALSE(own.empty()) << "needs the unified cgroup hierarchy";
  ASSERT_NO_FATAL_FAILURE(LaunchAll(
      StrCat("[rest_api]\ndefault = \"deny\"\n", "[[rest_api.rules]]\nname = \"no-second-key\"\n",
             "routes = [\"resource:default/key/2\"]\neffect = \"deny\"\n",
             "[[rest_api.rules]]\nname = \"keys\"\nroutes = [\"resource:default/key/*\"]\n",
             "[[rest_api.rules]]\nname = \"this-test\"\ncgroup = \"", own, "\"\n", "routes = [\"aa:token\"]\n",
             "[[rest_api.rules]]\nname = \"elsewhere\"\ncgroup = \"/no-such-pod\"\n", "routes = [\"aa:evidence\"]\n")));
  http::HttpResponse r = Get("/cdh/resource/default/key/1");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "dataset-key-bytes");
  r = Get("/cdh/resource/default/key/2");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body, "Forbidden by rule `no-second-key`");
  // Encoded twice, `2` would pass the policy as `%32` (allowed by `keys`) and reach the broker,
  // which decodes it again: a '%' left after the server's decoding is refused.
  r = Get("/cdh/resource/default/key/%25322");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("percent-encoded"));
  EXPECT_EQ(r.body.find("second-key"), std::string::npos);
  r = Get("/cdh/resource/default/sealed-secret/test");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body, "Forbidden by rule `default`");
  // This process's cgroup matches `this-test`, not `elsewhere`.
  EXPECT_EQ(Get("/aa/token?token_type=kbs").status, 200);
  r = Get("/aa/evidence?runtime_data=xyz");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body, "Forbidden by rule `default`");
  std::string log = Log();
  EXPECT_THAT(log, HasSubstr("resource:default/key/2 refused by rule `no-second-key`"));
  EXPECT_THAT(log, HasSubstr("serving by the [rest_api] policy"));
}

// The joined entry points wait as cdh-role-wait (pid and command line kept), exit with the daemon's
// status, and a killed one leaves its role served.
TEST_F(GuestComponentsTest, EntryPointsExitWithTheDaemonAndARoleIsServedOnce) {
  ASSERT_NO_FATAL_FAILURE(LaunchAll());
  // A second data hub entry point: the running daemon already serves that role.
  CommandResult again =
      RunCommand({DaemonBinary(), "-c", dir_.File("initdata/cdh.toml"), "--kernel-cmdline", "/dev/null"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_THAT(again.err, HasSubstr("already serves the data hub"));
  // The daemon is the first entry point; stopping it ends the others, and removes the sockets.
  ASSERT_EQ(children_.size(), 3u);
  // The joined entry points wait as cdh-role-wait, keeping the pid and command line kata started.
  for (int i : {1, 2}) {
    pid_t pid = children_[i]->pid();
    EXPECT_TRUE(WaitUntil([&] { return ExePath(pid).ends_with("/cdh-role-wait"); })) << ExePath(pid);
    std::string cmdline = ReadFile(StrCat("/proc/", pid, "/cmdline"));
    EXPECT_EQ(cmdline.substr(0, cmdline.find('\0')), i == 1 ? DaemonBinary() : RoleBinary("api-server-rest"));
  }
  // Killing a waiting entry point ends that process only: the daemon keeps serving its role.
  children_[2]->Signal(SIGTERM);
  EXPECT_EQ(children_[2]->Wait(absl::Seconds(15)), std::optional<int>(-1));
  EXPECT_EQ(Get("/info").status, 200);
  EXPECT_EQ(children_[0]->Stop(absl::Seconds(15)), 0);
  EXPECT_EQ(children_[1]->Wait(absl::Seconds(15)), std::optional<int>(0));
  EXPECT_NE(access(AaSocket().c_str(), F_OK), 0);
  EXPECT_NE(access(CdhSocket().c_str(), F_OK), 0);
}

// A daemon that dies (SIGKILL: no orderly stop) ends its waiting entry points with status 1.
TEST_F(GuestComponentsTest, EntryPointsExitWithOneWhenTheDaemonDies) {
  ASSERT_NO_FATAL_FAILURE(LaunchAll());
  ASSERT_TRUE(WaitUntil([&] { return ExePath(children_[2]->pid()).ends_with("/cdh-role-wait"); }));
  ::kill(children_[0]->pid(), SIGKILL);
  EXPECT_EQ(children_[1]->Wait(absl::Seconds(15)), std::optional<int>(1));
  EXPECT_EQ(children_[2]->Wait(absl::Seconds(15)), std::optional<int>(1));
}

// upstream's grpc-aa: `--attestation_sock host:port` serves attestation_agent.AttestationAgentService
// over gRPC on TCP (from the same handlers as ttrpc), with reflection. A data hub entry point then
// joins the same daemon (--control-dir) and shares its KBS session.
TEST_F(GuestComponentsTest, AttestationAgentOverGrpcOnTcp) {
  int port = FreeLoopbackPort();
  Spawn({RoleBinary("attestation-agent"), "--attestation_sock", StrCat("127.0.0.1:", port), "-c", AaToml(),
         "--control-dir", Run()});
  auto channel = grpc::CreateChannel(StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials());
  ASSERT_TRUE(channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(30))) << Log();
  auto stub = attestation_agent::AttestationAgentService::NewStub(channel);
  auto ctx = [](grpc::ClientContext& c) {
    c.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(50));
  };
  {
    grpc::ClientContext c;
    ctx(c);
    attestation_agent::GetTeeTypeResponse resp;
    ASSERT_THAT(stub->GetTeeType(&c, {}, &resp), IsOk());
    EXPECT_EQ(resp.tee(), "sample");
  }
  {
    grpc::ClientContext c;
    ctx(c);
    attestation_agent::GetAdditionalTeesResponse resp;
    ASSERT_THAT(stub->GetAdditionalTees(&c, {}, &resp), IsOk());
    EXPECT_EQ(resp.additional_tees_size(), 0);
  }
  {
    grpc::ClientContext c;
    ctx(c);
    attestation_agent::GetEvidenceRequest req;
    req.set_runtimedata("xyz");
    attestation_agent::GetEvidenceResponse resp;
    ASSERT_THAT(stub->GetEvidence(&c, req, &resp), IsOk());
    EXPECT_THAT(resp.evidence(), HasSubstr("\"report_data\":\"eHl6\""));
  }
  {
    grpc::ClientContext c;
    ctx(c);
    attestation_agent::GetEvidenceRequest req;
    req.set_runtimedata(std::string(65, 'x'));
    attestation_agent::GetEvidenceResponse resp;
    EXPECT_EQ(stub->GetEvidence(&c, req, &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  {
    grpc::ClientContext c;
    ctx(c);
    attestation_agent::GetAdditionalEvidenceRequest req;
    req.set_runtimedata("xyz");
    attestation_agent::GetEvidenceResponse resp;
    ASSERT_THAT(stub->GetAdditionalEvidence(&c, req, &resp), IsOk());
    EXPECT_EQ(resp.evidence(), "");
  }
  {
    grpc::ClientContext c;
    ctx(c);
    attestation_agent::ExtendRuntimeMeasurementRequest req;
    req.set_domain("example.org");
    req.set_operation("Launch");
    req.set_content("x");
    attestation_agent::ExtendRuntimeMeasurementResponse resp;
    ASSERT_THAT(stub->ExtendRuntimeMeasurement(&c, req, &resp), IsOk());
    EXPECT_EQ(resp.result(), attestation_agent::NOT_SUPPORTED);  // the sample TEE
  }
  {
    grpc::ClientContext c;
    ctx(c);
    attestation_agent::BindInitDataRequest req;
    req.set_digest(std::string(32, '\0'));
    attestation_agent::BindInitDataResponse resp;
    EXPECT_THAT(stub->BindInitData(&c, req, &resp), IsOk());
  }
  {
    grpc::ClientContext c;
    ctx(c);
    attestation_agent::GetTokenRequest req;
    req.set_tokentype("no-such-type");
    attestation_agent::GetTokenResponse resp;
    EXPECT_EQ(stub->GetToken(&c, req, &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  {
    grpc::ClientContext c;
    ctx(c);
    attestation_agent::GetTokenRequest req;
    req.set_tokentype("kbs");
    attestation_agent::GetTokenResponse resp;
    ASSERT_THAT(stub->GetToken(&c, req, &resp), IsOk());
    auto token = ParseJson(resp.token(), "token");
    ASSERT_THAT(token.status(), IsOk());
    ASSERT_TRUE((*token)["token"].is_string());
    auto r = http_->Send({"GET",
                          kbs_->url() + "/kbs/v0/resource/default/key/1",
                          {{"Authorization", "Bearer " + (*token)["token"].get<std::string>()}},
                          ""},
                         absl::Now() + absl::Seconds(30));
    ASSERT_THAT(r.status(), IsOk());
    EXPECT_EQ(r->status, 200);  // the broker accepts the token
  }
  {
    // Reflection (`grpcurl -plaintext 127.0.0.1:<port> list`).
    auto reflection = grpc::reflection::v1alpha::ServerReflection::NewStub(channel);
    grpc::ClientContext c;
    ctx(c);
    auto stream = reflection->ServerReflectionInfo(&c);
    grpc::reflection::v1alpha::ServerReflectionRequest req;
    req.set_list_services("");
    ASSERT_TRUE(stream->Write(req));
    grpc::reflection::v1alpha::ServerReflectionResponse resp;
    ASSERT_TRUE(stream->Read(&resp));
    std::vector<std::string> names;
    for (const auto& service : resp.list_services_response().service()) names.push_back(service.name());
    EXPECT_THAT(names, ::testing::Contains("attestation_agent.AttestationAgentService"));
    stream->WritesDone();
  }
  // A second agent: through the same control socket the daemon refuses it (role already served);
  // as a daemon of its own it cannot bind the live port (no SO_REUSEPORT sharing).
  CommandResult again = RunCommand({RoleBinary("attestation-agent"), "--attestation_sock", StrCat("127.0.0.1:", port),
                                    "-c", AaToml(), "--control-dir", Run()});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_THAT(again.err, HasSubstr("already serves the attestation agent"));
  again = RunCommand({RoleBinary("attestation-agent"), "--attestation_sock", StrCat("127.0.0.1:", port), "-c", AaToml(),
                      "--control-dir", dir_.File("elsewhere")});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_THAT(again.err, HasSubstr("gRPC could not listen on 127.0.0.1:"));
  // The data hub joins the same daemon and fetches with the session GetToken attested.
  std::string cdh_toml = dir_.Write(
      "initdata/cdh.toml",
      StrCat("socket = \"unix://", CdhSocket(), "\"\ngrpc_socket = \"\"\n[kbc]\nname = \"cc_kbc\"\n", "url = \"",
             kbs_->url(), "\"\n[attestation]\ntee = \"sample\"\n[paths]\nbase_dir = \"", dir_.File("base"), "\"\n"));
  Spawn({DaemonBinary(), "-c", cdh_toml, "--kernel-cmdline", "/dev/null"});
  ASSERT_TRUE(WaitUntil([&] { return access(CdhSocket().c_str(), F_OK) == 0; })) << Log();
  CommandResult got =
      RunCommand({CdhToolBinary(), "--ttrpc", "--socket", CdhSocket(), "get-resource", "kbs:///default/key/1"});
  EXPECT_EQ(got.exit_code, 0) << got.err;
  EXPECT_THAT(got.out, HasSubstr("dataset-key-bytes"));
  EXPECT_EQ(Handshakes(), 1) << Log();
  EXPECT_THAT(Log(), HasSubstr("(gRPC) on 127.0.0.1:"));
}

}  // namespace
}  // namespace cdh::testing
