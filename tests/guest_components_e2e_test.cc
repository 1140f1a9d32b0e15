// End to end, real binaries: one daemon serving the attestation agent, the data hub and the REST
// front, launched in the kata agent's order with its arguments and socket waits
// (kata-containers src/agent/src/main.rs: attestation-agent --attestation_sock <uri> -c aa.toml,
// wait for its socket; confidential-data-hub -c cdh.toml, wait for its socket; api-server-rest
// --features <f>), against `kbs-dev` on a loopback port. Paths live in a temp directory instead
// of /run (tests/guest_components/kata_launch_test.sh runs kata's exact paths in a namespace).
// The `sample` attester stands in for a TEE: none exists on a test machine.
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "common/json.h"
#include "common/strings.h"
#include "common/testing/process.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "http/curl_http_client.h"
#include "tests/kbs_dev_process.h"
#include "tests/spec_vectors.h"
#include "tests/test_util.h"

namespace cdh::testing {
namespace {

using ::testing::HasSubstr;

bool Connects(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path.c_str());
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

// A loopback port nobody listens on right now.
int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// The daemon binary under another role's name (the build links it next to the daemon).
std::string RoleBinary(const std::string& role) {
  std::string daemon = DaemonBinary();
  return daemon.substr(0, daemon.rfind('/') + 1) + role;
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
  // kata's wait_for_path_to_exist, in finer steps (the socket appears in another process).
  bool WaitFor(const std::function<bool()>& ready) {
    for (int i = 0; i < 3000; ++i) {  // 30 s
      if (ready()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  // Launches the three as the kata agent does. `rest_api` is appended to cdh.toml.
  void LaunchAll(const std::string& rest_api = "") {
    std::string aa_toml =
        dir_.Write("initdata/aa.toml", StrCat("[token_configs.kbs]\nurl = \"", kbs_->url(),
                                              "\"\n[eventlog_config]\nenable_eventlog = true\n", "log_path = \"",
                                              dir_.File("eventlog"), "\"\n", "[attestation]\ntee = \"sample\"\n"));
    std::string cdh_toml =
        dir_.Write("initdata/cdh.toml",
                   StrCat("socket = \"unix://", CdhSocket(), "\"\ngrpc_socket = \"\"\n[kbc]\nname = \"cc_kbc\"\n",
                          "url = \"", kbs_->url(), "\"\n[attestation]\ntee = \"sample\"\n[paths]\nbase_dir = \"",
                          dir_.File("base"), "\"\n", rest_api));
    Spawn({RoleBinary("attestation-agent"), "--attestation_sock", "unix://" + AaSocket(), "-c", aa_toml});
    ASSERT_TRUE(WaitFor([&] { return access(AaSocket().c_str(), F_OK) == 0; })) << Log();
    Spawn({DaemonBinary(), "-c", cdh_toml, "--kernel-cmdline", "/dev/null"});
    ASSERT_TRUE(WaitFor([&] { return access(CdhSocket().c_str(), F_OK) == 0; })) << Log();
    port_ = FreePort();
    Spawn({RoleBinary("api-server-rest"), "--features", "all", "--bind", StrCat("127.0.0.1:", port_), "--cdh_addr",
           "unix://" + CdhSocket()});
    ASSERT_TRUE(WaitFor([&] { return Get("/info").status == 200; })) << Log();
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
  EXPECT_EQ(r.HeaderValues("Content-Type"), std::vector<std::string>{"application/octet-stream"});
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

TEST_F(GuestComponentsTest, EntryPointsExitWithTheDaemonAndARoleIsServedOnce) {
  ASSERT_NO_FATAL_FAILURE(LaunchAll());
  // A second data hub entry point: the running daemon already serves that role.
  CommandResult again =
      RunCommand({DaemonBinary(), "-c", dir_.File("initdata/cdh.toml"), "--kernel-cmdline", "/dev/null"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_THAT(again.err, HasSubstr("already serves the data hub"));
  // The daemon is the first entry point; stopping it ends the others, and removes the sockets.
  ASSERT_EQ(children_.size(), 3u);
  EXPECT_EQ(children_[0]->Stop(absl::Seconds(15)), 0);
  EXPECT_EQ(children_[1]->Wait(absl::Seconds(15)), std::optional<int>(0));
  EXPECT_EQ(children_[2]->Wait(absl::Seconds(15)), std::optional<int>(0));
  EXPECT_NE(access(AaSocket().c_str(), F_OK), 0);
  EXPECT_NE(access(CdhSocket().c_str(), F_OK), 0);
}

}  // namespace
}  // namespace cdh::testing
