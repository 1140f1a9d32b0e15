// End-to-end tests of the real confidential-data-hub binary over ttrpc: both transports from
// one handler set, interop with Debian's Go ttrpc (a kata-agent-like client), cdh-tool's
// unseal-dir on the README's main job, and the socket lifecycle.
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "common/base64.h"
#include "common/strings.h"
#include "common/testing/status_matchers.h"
#include "gtest/gtest.h"
#include "proto/api.pb.h"
#include "tests/daemon_fixture.h"
#include "tests/test_util.h"
#include "tools/cdh_client.h"
#include "ttrpc/client.h"

namespace cdh::testing {
namespace {

using ::cdh::testing::IsOk;
using ::cdh::testing::StatusIs;
namespace fs = std::filesystem;

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

UnixSocketAddress Address(const std::string& path) { return *UnixSocketAddress::Parse("unix://" + path); }

std::unique_ptr<TestDaemon> StartOrDie(TestDaemonOptions o = {}) {
  auto d = TestDaemon::Start(std::move(o));
  EXPECT_THAT(d, IsOk());
  return d.ok() ? std::move(*d) : nullptr;
}

TEST(DaemonTtrpcTest, BothTransportsServeTheSameHandlers) {
  auto d = StartOrDie();
  ASSERT_NE(d, nullptr);
  auto t = tool::NewTtrpcCdhClient(Address(d->ttrpc_socket()));
  ASSERT_THAT(t, IsOk());
  auto g = tool::NewGrpcCdhClient(Address(d->grpc_socket()));
  ASSERT_THAT(g, IsOk());
  for (tool::CdhClient* c : {t->get(), g->get()}) {
    auto p = c->UnsealSecret(std::string(kFixtureSealedSecret) + "\n", absl::Seconds(50));
    ASSERT_THAT(p, IsOk());
    EXPECT_EQ(p->RevealString(), kFixturePlaintext);
    auto r = c->GetResource(kSmallResourceUri, absl::Seconds(50));
    ASSERT_THAT(r, IsOk());
    EXPECT_EQ(r->RevealString(), kSmallResource);
    // Same failure, same code and message on both wires.
    auto missing = c->GetResource("kbs:///default/key/404", absl::Seconds(50));
    EXPECT_THAT(missing, StatusIs(absl::StatusCode::kNotFound));
    EXPECT_TRUE(ToStd(missing.status().message()).starts_with("Get Resource failed")) << missing.status();
  }
  // WrapKey is registered but not implemented (cdh-api.md §3.3), on ttrpc too.
  auto raw = ttrpc::Client::Connect(d->ttrpc_socket());
  ASSERT_THAT(raw, IsOk());
  EXPECT_THAT((*raw)->Call("keyprovider.KeyProviderService", "WrapKey", ""),
              StatusIs(absl::StatusCode::kUnimplemented));
}

// A 5 MiB resource cannot travel in one ttrpc frame: RESOURCE_EXHAUSTED, not a broken stream.
TEST(DaemonTtrpcTest, OversizeReplyIsResourceExhaustedAndConnectionSurvives) {
  auto d = StartOrDie(TestDaemonOptions{.big_resource = true});
  ASSERT_NE(d, nullptr);
  auto c = tool::NewTtrpcCdhClient(Address(d->ttrpc_socket()));
  ASSERT_THAT(c, IsOk());
  EXPECT_THAT((*c)->GetResource(kBigResourceUri, absl::Seconds(50)), StatusIs(absl::StatusCode::kResourceExhausted));
  auto small = (*c)->GetResource(kSmallResourceUri, absl::Seconds(50));
  ASSERT_THAT(small, IsOk());
  EXPECT_EQ(small->RevealString(), kSmallResource);
}

TEST(DaemonTtrpcTest, SocketsAreOwnerOnly) {
  auto d = StartOrDie();
  ASSERT_NE(d, nullptr);
  for (const std::string& s : {d->ttrpc_socket(), d->grpc_socket()}) {
    struct stat st {};
    ASSERT_EQ(::stat(s.c_str(), &st), 0) << s;
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0600u) << s;
  }
}

// An idle kata-agent-like connection does not hold up shutdown, and is closed by it.
TEST(DaemonTtrpcTest, SigtermExitsCleanlyAndRemovesTheSocket) {
  auto d = StartOrDie();
  ASSERT_NE(d, nullptr);
  auto idle = ttrpc::Client::Connect(d->ttrpc_socket());
  ASSERT_THAT(idle, IsOk());
  ASSERT_TRUE((*idle)
                  ->Call("api.GetResourceService", "GetResource",
                         [] {
                           api::GetResourceRequest r;
                           r.set_resourcepath(kSmallResourceUri);
                           return r.SerializeAsString();
                         }())
                  .ok());
  absl::Time before = absl::Now();
  EXPECT_EQ(d->Stop(), 0);
  EXPECT_LT(absl::Now() - before, absl::Seconds(5));
  EXPECT_FALSE(fs::exists(d->ttrpc_socket()));
  EXPECT_THAT((*idle)->Call("api.GetResourceService", "GetResource", ""), StatusIs(absl::StatusCode::kUnavailable));
}

// Interop: Debian's containerd/ttrpc Go client, behaving like the kata agent (one connection,
// concurrent calls, 50 s timeouts), checks codes and payloads (tests/go/src/cdhinterop).
TEST(DaemonTtrpcTest, GoTtrpcClientInterop) {
  auto d = StartOrDie();
  ASSERT_NE(d, nullptr);
  std::string plaintext = d->dir() + "/expected_plaintext";
  std::string resource = d->dir() + "/expected_resource";
  std::ofstream(plaintext, std::ios::binary) << kFixturePlaintext;
  std::ofstream(resource, std::ios::binary) << kSmallResource;
  CommandResult r = RunCommand({CDH_GO_INTEROP_PATH, "-sock", d->ttrpc_socket(), "-sealed", d->sealed_secret_path(),
                                "-plaintext", plaintext, "-resource-uri", kSmallResourceUri, "-resource", resource,
                                "-missing-uri", "kbs:///default/key/404", "-rounds", "16"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err << "\ndaemon log:\n" << d->Log();
  EXPECT_THAT(std::string(r.out), ::testing::HasSubstr("all checks passed")) << r.out << r.err;
}

// The README's main job without Kubernetes: a pointer made with `secret seal` for
// kbs:///default/fraud-dataset/dataset_key sits in a secret volume laid out as the kubelet does;
// `cdh-tool --ttrpc unseal-dir` (speaking to the daemon as the kata agent does) leaves the key
// at <volume>/dataset_key.
TEST(DaemonTtrpcTest, UnsealDirReproducesTheScenario) {
  TempDir tmp("cdh-scenario");
  fs::path work = tmp.path();
  CommandResult keygen = RunCommand({SecretBinary(), "keygen", "--kid", "fraud", "--output-dir", work.string()});
  ASSERT_EQ(keygen.exit_code, 0) << keygen.err;
  CommandResult seal = RunCommand({SecretBinary(), "seal", "--signing-kid", "kbs:///default/signing-key/fraud",
                                   "--signing-jwk-path", (work / "fraud-private.json").string(), "vault",
                                   "--resource-uri", "kbs:///default/fraud-dataset/dataset_key", "--provider", "kbs"});
  ASSERT_EQ(seal.exit_code, 0) << seal.err;
  size_t at = seal.out.find("sealed.");
  ASSERT_NE(at, std::string::npos) << seal.out;
  std::string pointer = seal.out.substr(at, seal.out.find('\n', at) - at);

  // The broker holds the key and the pointer's verification key (offline_fs_kbc stands in for
  // the KBS, which needs a TEE to attest).
  const std::string key = "0123456789abcdef0123456789abcdef";  // the dataset's decryption key
  auto d = StartOrDie(TestDaemonOptions{
      .grpc = false,
      .extra_resources_json =
          StrCat(",\"default/fraud-dataset/dataset_key\":\"", Base64StdEncode(key), "\"",
                 ",\"default/signing-key/fraud\":\"", Base64StdEncode(ReadAll(work / "fraud-public.json")), "\"")});
  ASSERT_NE(d, nullptr);

  // `oc create secret generic fraud-dataset-sealed --from-literal=dataset_key=$POINTER`, mounted.
  fs::path volume = work / "downloaded_keys";
  fs::create_directories(volume / "..2026_11_29_10_00_00.000000001");
  std::ofstream(volume / "..2026_11_29_10_00_00.000000001" / "dataset_key", std::ios::binary) << pointer;
  fs::create_directory_symlink("..2026_11_29_10_00_00.000000001", volume / "..data");
  fs::create_symlink("..data/dataset_key", volume / "dataset_key");

  CommandResult run = RunCommand(
      {CdhToolBinary(), "--ttrpc", "--socket", StrCat("unix://", d->ttrpc_socket()), "unseal-dir", volume.string()});
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err << "\n" << d->Log();
  EXPECT_EQ(ReadAll(volume / "dataset_key"), key);
  EXPECT_EQ(fs::read_symlink(volume / "dataset_key"), "..2026_11_29_10_00_00.000000001/dataset_key.unsealed");
  // The key never reaches the daemon's log or the tool's output.
  EXPECT_THAT(d->Log(), ::testing::Not(::testing::HasSubstr(key)));
  EXPECT_THAT(run.out, ::testing::Not(::testing::HasSubstr(key)));
  EXPECT_THAT(run.err, ::testing::Not(::testing::HasSubstr(key)));

  // A tampered pointer fails loudly and leaves the file alone.
  fs::path bad = work / "bad";
  fs::create_directory(bad);
  std::string tampered = pointer;
  tampered[tampered.size() - 5] = tampered[tampered.size() - 5] == 'A' ? 'B' : 'A';
  std::ofstream(bad / "dataset_key", std::ios::binary) << tampered;
  CommandResult fail = RunCommand(
      {CdhToolBinary(), "--ttrpc", "--socket", StrCat("unix://", d->ttrpc_socket()), "unseal-dir", bad.string()});
  EXPECT_EQ(fail.exit_code, 1) << fail.out << fail.err;
  EXPECT_THAT(std::string(fail.err), ::testing::HasSubstr("Unseal Secret failed")) << fail.err;
  EXPECT_FALSE(fs::is_symlink(bad / "dataset_key"));
}

TEST(DaemonTtrpcTest, CdhToolSpeaksBothTransports) {
  auto d = StartOrDie();
  ASSERT_NE(d, nullptr);
  const std::vector<std::vector<std::string>> transports = {
      {CdhToolBinary(), "--ttrpc", "--socket", StrCat("unix://", d->ttrpc_socket())},
      {CdhToolBinary(), "--socket", StrCat("unix://", d->grpc_socket())}};
  auto with = [](std::vector<std::string> argv, std::initializer_list<std::string> more) {
    argv.insert(argv.end(), more);
    return argv;
  };
  for (const auto& t : transports) {
    CommandResult u = RunCommand(with(t, {"unseal", "-f", d->sealed_secret_path()}));
    EXPECT_EQ(u.exit_code, 0) << u.err;
    EXPECT_EQ(u.out, kFixturePlaintext);
    CommandResult g = RunCommand(with(t, {"get-resource", kSmallResourceUri}));
    EXPECT_EQ(g.exit_code, 0) << g.err;
    EXPECT_EQ(g.out, kSmallResource);
    CommandResult m =
        RunCommand(with(t, {"secure-mount", "--volume-type", "no-such-type", "--mount-point", d->dir() + "/mnt"}));
    EXPECT_EQ(m.exit_code, 1) << m.err;
    EXPECT_THAT(std::string(m.err), ::testing::HasSubstr("UNIMPLEMENTED: Secure Mount failed")) << m.err;
  }
}

// cdh-tool parses addresses with the daemon's parser: `unix:/abs` and `unix:///abs` reach the
// daemon over ttrpc, `unix://relative/path` is refused at once with a clear error.
TEST(DaemonTtrpcTest, CdhToolParsesSocketAddressesAsTheDaemonDoes) {
  auto d = StartOrDie();
  ASSERT_NE(d, nullptr);
  for (const std::string& address : {StrCat("unix:", d->ttrpc_socket()), StrCat("unix://", d->ttrpc_socket())}) {
    CommandResult g = RunCommand({CdhToolBinary(), "--ttrpc", "--socket", address, "get-resource", kSmallResourceUri});
    EXPECT_EQ(g.exit_code, 0) << address << ": " << g.err;
    EXPECT_EQ(g.out, kSmallResource) << address;
  }
  absl::Time start = absl::Now();
  CommandResult bad = RunCommand(
      {CdhToolBinary(), "--ttrpc", "--socket", "unix://relative/cdh.sock", "get-resource", kSmallResourceUri});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_THAT(bad.err, ::testing::HasSubstr("names a relative path")) << bad.err;
  EXPECT_LT(absl::Now() - start, absl::Seconds(10)) << "refused at once, not retried until a timeout";
}

// A burst of connects (Go's dialer gives up at once with EAGAIN on a full unix-socket backlog):
// every one of a few hundred simultaneous non-blocking connects is accepted into the backlog.
TEST(DaemonTtrpcTest, BurstOfConnectsFitsTheBacklog) {
  auto d = StartOrDie();
  ASSERT_NE(d, nullptr);
  constexpr int kBurst = 400;
  std::vector<int> fds;
  int refused = 0;
  for (int i = 0; i < kBurst; ++i) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    ASSERT_GE(fd, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, d->ttrpc_socket().c_str(), sizeof(addr.sun_path) - 1);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) ++refused;
    fds.push_back(fd);
  }
  EXPECT_EQ(refused, 0) << refused << " of " << kBurst << " connects failed (EAGAIN: backlog full)";
  for (int fd : fds) ::close(fd);
  // The daemon still answers.
  CommandResult g = RunCommand({CdhToolBinary(), "--ttrpc", "--socket", StrCat("unix://", d->ttrpc_socket()),
                                "get-resource", kSmallResourceUri});
  EXPECT_EQ(g.exit_code, 0) << g.err;
}

// A live socket is never taken over; a stale one (kill -9) is replaced on restart.
TEST(DaemonTtrpcTest, SocketLifecycle) {
  auto d = StartOrDie(TestDaemonOptions{.grpc = false});
  ASSERT_NE(d, nullptr);
  int second = RunDaemonToExit(d->config_path(), d->dir() + "/second.log", absl::Seconds(20));
  EXPECT_NE(second, 0);
  EXPECT_TRUE(d->Alive());
  auto c = ttrpc::Client::Connect(d->ttrpc_socket());
  ASSERT_THAT(c, IsOk()) << "the first daemon lost its socket";
  c->reset();

  d->Kill();
  ASSERT_TRUE(fs::exists(d->ttrpc_socket()));  // a stale socket file is left behind
  ASSERT_THAT(d->Restart(), IsOk());
  auto t = tool::NewTtrpcCdhClient(Address(d->ttrpc_socket()));
  ASSERT_THAT(t, IsOk());
  auto r = (*t)->GetResource(kSmallResourceUri, absl::Seconds(50));
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->RevealString(), kSmallResource);
}

// `cdh-tool --ttrpc` started while the daemon is down (a stale socket file, as after
// kill -9) retries with backoff and succeeds once the daemon is back, within its --timeout.
TEST(DaemonTtrpcTest, TtrpcClientStartedBeforeTheDaemonWaitsForIt) {
  auto d = StartOrDie(TestDaemonOptions{.grpc = false});
  ASSERT_NE(d, nullptr);
  d->Kill();
  CommandResult early;
  std::thread client([&] {
    early = RunCommand({CdhToolBinary(), "--ttrpc", "--socket", StrCat("unix://", d->ttrpc_socket()), "--timeout", "20",
                        "get-resource", kSmallResourceUri});
  });
  // Give the client time to find nobody listening (it must be waiting before the restart).
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_THAT(d->Restart(), IsOk());
  client.join();
  EXPECT_EQ(early.exit_code, 0) << early.err;
  EXPECT_EQ(early.out, kSmallResource);
}

}  // namespace
}  // namespace cdh::testing
