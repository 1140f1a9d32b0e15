// End-to-end tests of the real `confidential-data-hub` binary over gRPC on a unix socket
// under a temp directory: API, reflection, socket lifecycle, codes, CLI round trip.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <future>
#include <thread>

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "common/base64.h"
#include "common/testing/status_matchers.h"
#include "nlohmann/json.hpp"
#include "proto/api.grpc.pb.h"
#include "proto/keyprovider.grpc.pb.h"
#include "tests/daemon_fixture.h"
#include "tests/proto/reflection_client.grpc.pb.h"
#include "tests/spec_vectors.h"
#include "tests/test_util.h"

namespace cdh::testing {
namespace {

using ::cdh::testing::IsOk;

class DaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    nlohmann::json resources = {
        {"default/signing-key/sealed-secret", Base64StdEncode(std::string(kKataPublicJwk))},
        {"default/sealed-secret/test", Base64StdEncode(std::string("unsealed_secret"))},
        {"default/creds/registry", Base64StdEncode(std::string("{\"auths\":{}}"))},
    };
    resource_file_ = dir_.Write("resources.json", resources.dump());
    grpc_socket_ = dir_.path() + "/run/cdh/grpc.sock";
    config_ = WriteConfig("cdh.toml", "");
  }

  std::string WriteConfig(const std::string& name, const std::string& extra) {
    return dir_.Write(name, "socket = \"unix://" + dir_.path() + "/run/cdh/ttrpc.sock\"\n" + "grpc_socket = \"unix://" +
                                grpc_socket_ + "\"\n" + extra +
                                "[kbc]\nname = \"offline_fs_kbc\"\n"
                                "[offline_fs_kbc]\nresource_files = [\"" +
                                resource_file_ +
                                "\"]\n"
                                "[paths]\nbase_dir = \"" +
                                dir_.path() + "/base\"\n");
  }

  std::unique_ptr<Daemon> Start(const std::string& config) {
    auto d = std::make_unique<Daemon>(config, dir_.path() + "/daemon.log");
    EXPECT_TRUE(d->WaitForSocket(grpc_socket_)) << ReadFile(dir_.path() + "/daemon.log");
    return d;
  }

  std::shared_ptr<grpc::Channel> Channel() {
    return grpc::CreateChannel("unix:" + grpc_socket_, grpc::InsecureChannelCredentials());
  }

  grpc::Status Unseal(const std::string& secret, std::string* plaintext) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(50));
    api::UnsealSecretInput req;
    req.set_secret(secret);
    api::UnsealSecretOutput resp;
    grpc::Status st = api::SealedSecretService::NewStub(Channel())->UnsealSecret(&ctx, req, &resp);
    *plaintext = resp.plaintext();
    return st;
  }

  grpc::Status GetResource(const std::string& uri, std::string* out) {
    grpc::ClientContext ctx;
    api::GetResourceRequest req;
    req.set_resourcepath(uri);
    api::GetResourceResponse resp;
    grpc::Status st = api::GetResourceService::NewStub(Channel())->GetResource(&ctx, req, &resp);
    *out = resp.resource();
    return st;
  }

  TempDir dir_;
  std::string resource_file_, grpc_socket_, config_;
};

TEST_F(DaemonTest, ReflectionListsAndDescribesTheFiveServices) {
  auto daemon = Start(config_);
  auto stub = grpc::reflection::v1alpha::ServerReflection::NewStub(Channel());
  grpc::ClientContext ctx;
  auto stream = stub->ServerReflectionInfo(&ctx);
  grpc::reflection::v1alpha::ServerReflectionRequest req;
  req.set_list_services("");
  ASSERT_TRUE(stream->Write(req));
  grpc::reflection::v1alpha::ServerReflectionResponse resp;
  ASSERT_TRUE(stream->Read(&resp));
  std::set<std::string> names;
  for (const auto& s : resp.list_services_response().service()) names.insert(s.name());
  for (const char* want : {"api.SealedSecretService", "api.GetResourceService", "api.SecureMountService",
                           "api.ImagePullService", "keyprovider.KeyProviderService"}) {
    EXPECT_TRUE(names.count(want)) << want;
  }
  // `describe`: the file that defines the symbol comes back with its methods.
  req.set_file_containing_symbol("api.SealedSecretService");
  ASSERT_TRUE(stream->Write(req));
  ASSERT_TRUE(stream->Read(&resp));
  ASSERT_GT(resp.file_descriptor_response().file_descriptor_proto_size(), 0);
  EXPECT_THAT(std::string(resp.file_descriptor_response().file_descriptor_proto(0)),
              ::testing::HasSubstr("UnsealSecret"));
  stream->WritesDone();
}

TEST_F(DaemonTest, KataFixtureUnsealsToTheResourceBytes) {
  auto daemon = Start(config_);
  std::string plaintext;
  grpc::Status st = Unseal(kKataSealed, &plaintext);
  ASSERT_THAT(st, IsOk()) << st.error_message();
  EXPECT_EQ(plaintext, "unsealed_secret");
  // The kata agent sends secret files untrimmed.
  st = Unseal(std::string(kKataSealed) + "\n", &plaintext);
  ASSERT_THAT(st, IsOk()) << st.error_message();
  EXPECT_EQ(plaintext, "unsealed_secret");
}

TEST_F(DaemonTest, EveryFailureGetsItsCodeAndANamedReason) {
  auto daemon = Start(config_);
  std::string out;
  grpc::Status st = GetResource("kbs:///default/missing/key", &out);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(std::string(st.error_message()), ::testing::HasSubstr("Get Resource failed"));
  EXPECT_THAT(std::string(st.error_message()), ::testing::HasSubstr("kbs:///default/missing/key"));

  st = GetResource("file:///etc/passwd", &out);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(std::string(st.error_message()), ::testing::HasSubstr("scheme"));

  std::string tampered = kKataSealed;
  tampered[tampered.size() - 5] = tampered[tampered.size() - 5] == 'A' ? 'B' : 'A';
  st = Unseal(tampered, &out);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED) << st.error_message();
  EXPECT_THAT(std::string(st.error_message()), ::testing::HasSubstr("signature"));

  st = Unseal("sealed.YQ==.YQ.YQ", &out);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(std::string(st.error_message()), ::testing::HasSubstr("base64url"));

  st = Unseal(std::string("\x00\xff\xfe", 3), &out);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  {
    grpc::ClientContext ctx;
    api::SecureMountRequest req;
    req.set_volume_type("no-such-volume");
    api::SecureMountResponse resp;
    st = api::SecureMountService::NewStub(Channel())->SecureMount(&ctx, req, &resp);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::UNIMPLEMENTED);
    EXPECT_THAT(std::string(st.error_message()), ::testing::HasSubstr("no-such-volume"));
  }
  {
    grpc::ClientContext ctx;
    api::ImagePullRequest req;
    api::ImagePullResponse resp;
    st = api::ImagePullService::NewStub(Channel())->PullImage(&ctx, req, &resp);
    // An empty image_url: refused before anything is fetched (PullImage is implemented).
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(std::string(st.error_message()), ::testing::HasSubstr("Image Pull error: Illegal image reference"));
  }
  {
    grpc::ClientContext ctx;
    keyprovider::KeyProviderKeyWrapProtocolInput req;
    keyprovider::KeyProviderKeyWrapProtocolOutput resp;
    st = keyprovider::KeyProviderService::NewStub(Channel())->WrapKey(&ctx, req, &resp);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::UNIMPLEMENTED);
    EXPECT_THAT(std::string(st.error_message()), ::testing::HasSubstr("WrapKey"));
  }
  // The daemon is still alive and serving after all of that.
  st = GetResource("kbs:///default/sealed-secret/test", &out);
  ASSERT_THAT(st, IsOk());
  EXPECT_EQ(out, "unsealed_secret");
}

// A URI naming another host is answered from the configured provider; the
// host is never contacted (a listener there would see no connection).
TEST_F(DaemonTest, ForeignAuthorityInAResourceUriIsNeverContacted) {
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(listener, 4), 0);
  socklen_t len = sizeof(addr);
  getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  std::string authority = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  auto daemon = Start(config_);
  std::string out;
  grpc::Status st = GetResource("kbs://" + authority + "/default/sealed-secret/test", &out);
  ASSERT_THAT(st, IsOk()) << st.error_message();
  EXPECT_EQ(out, "unsealed_secret");
  fcntl(listener, F_SETFL, O_NONBLOCK);
  EXPECT_LT(accept(listener, nullptr, nullptr), 0) << "the daemon connected to the URI's host";
  close(listener);
  EXPECT_THAT(std::string(ReadFile(dir_.path() + "/daemon.log")),
              ::testing::HasSubstr("configured broker is used instead"));
}

// Socket file lifecycle.
TEST_F(DaemonTest, SocketIsPrivateAndALiveOneIsNeverTakenOver) {
  auto first = Start(config_);
  struct stat st;
  ASSERT_EQ(stat(grpc_socket_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // A second daemon on the same path refuses to start and leaves the first one serving: it finds
  // the running daemon (which serves every guest role, README "One daemon for the guest
  // components") and is told that the data hub role is taken.
  Daemon second(config_, dir_.path() + "/second.log");
  EXPECT_EQ(second.Wait(absl::Seconds(20)), 1);
  EXPECT_THAT(std::string(ReadFile(dir_.path() + "/second.log")),
              ::testing::HasSubstr("this daemon already serves the data hub"));
  std::string out;
  EXPECT_TRUE(GetResource("kbs:///default/sealed-secret/test", &out).ok());
  // kill -9 leaves a stale socket file; a restart replaces it.
  first->Signal(SIGKILL);
  first->Wait();
  ASSERT_TRUE(std::filesystem::exists(grpc_socket_));
  auto third = Start(config_);
  EXPECT_TRUE(GetResource("kbs:///default/sealed-secret/test", &out).ok());
}

// A client started before the server waits for it (within its deadline).
TEST_F(DaemonTest, ClientStartedBeforeTheDaemonWaitsForIt) {
  CommandResult early;
  std::thread client([&] {
    early = RunCommand({CdhToolBinary(), "--socket", "unix://" + grpc_socket_, "--timeout", "20", "get-resource",
                        "kbs:///default/sealed-secret/test"});
  });
  // The daemon starts only after the client is already waiting.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto daemon = Start(config_);
  client.join();
  EXPECT_EQ(early.exit_code, 0) << early.err;
  EXPECT_EQ(early.out, "unsealed_secret");
}

// No daemon comes up within the client's timeout: UNAVAILABLE naming the socket and the system's
// reason, over gRPC as over ttrpc (gRPC alone would only say "Deadline Exceeded").
TEST_F(DaemonTest, ClientWithoutADaemonSaysWhyItCannotConnect) {
  for (bool ttrpc : {false, true}) {
    std::vector<std::string> argv = {CdhToolBinary(), "--socket", "unix://" + dir_.path() + "/none.sock", "--timeout",
                                     "1"};
    if (ttrpc) argv.push_back("--ttrpc");
    argv.insert(argv.end(), {"get-resource", "kbs:///default/sealed-secret/test"});
    CommandResult r = RunCommand(argv);
    EXPECT_NE(r.exit_code, 0) << ttrpc;
    EXPECT_THAT(r.err, ::testing::HasSubstr("UNAVAILABLE")) << ttrpc;
    EXPECT_THAT(r.err, ::testing::HasSubstr("none.sock: No such file or directory")) << ttrpc;
  }
}

TEST_F(DaemonTest, SigtermShutsDownGracefullyAndRemovesTheSocket) {
  auto daemon = Start(config_);
  daemon->Signal(SIGTERM);
  EXPECT_EQ(daemon->Wait(), 0);
  EXPECT_FALSE(std::filesystem::exists(grpc_socket_));
}

TEST_F(DaemonTest, StartupCredentialsAreWrittenPrivately) {
  std::string path = dir_.path() + "/base/kbs/registry/auth.json";
  std::string config = WriteConfig("creds.toml", "");
  std::string text =
      ReadFile(config) + "[[credentials]]\nresource_uri = \"kbs:///default/creds/registry\"\npath = \"" + path + "\"\n";
  config = dir_.Write("creds.toml", text);
  auto daemon = Start(config);
  EXPECT_EQ(ReadFile(path), "{\"auths\":{}}");
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(DaemonTest, BadConfigurationFailsAtStartupNamingTheKey) {
  std::string config = dir_.Write("bad.toml", "[kbc]\nname = \"offline_fs_kbc\"\n[log]\nlevel = 3\n");
  Daemon daemon(config, dir_.path() + "/bad.log");
  EXPECT_EQ(daemon.Wait(), 1);
  EXPECT_THAT(std::string(ReadFile(dir_.path() + "/bad.log")), ::testing::HasSubstr("log.level"));
  auto r = RunCommand({DaemonBinary(), "--no-such-flag"});
  EXPECT_NE(r.exit_code, 0);
  r = RunCommand({DaemonBinary(), "--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(std::string(r.out), ::testing::HasSubstr("confidential-data-hub"));
}

// `[secure_mount] data_path` names a path that this machine cannot run: a startup error naming
// the key, not a failure at the first mount. These machines have no device-mapper, so "kernel"
// is unavailable here (the guest tests in tests/guest run it); "auto" is logged with its choice.
TEST_F(DaemonTest, UnavailableSecureMountDataPathFailsAtStartupNamingTheKey) {
  if (const int fd = open("/dev/mapper/control", O_RDWR | O_CLOEXEC); fd >= 0) {
    close(fd);
    GTEST_SKIP() << "this machine has device-mapper: the kernel path is available";
  }
  std::string config = WriteConfig("kernel.toml", "[secure_mount]\ndata_path = \"kernel\"\n");
  Daemon daemon(config, dir_.path() + "/kernel.log");
  EXPECT_EQ(daemon.Wait(), 1);
  EXPECT_THAT(std::string(ReadFile(dir_.path() + "/kernel.log")), ::testing::HasSubstr("secure_mount.data_path"))
      << ReadFile(dir_.path() + "/kernel.log");
  auto d = Start(config_);
  ASSERT_TRUE(d->Running());
  d->Signal(SIGTERM);
  d->Wait();
  EXPECT_THAT(std::string(ReadFile(dir_.path() + "/daemon.log")),
              ::testing::HasSubstr("secure_mount.data_path = \"auto\""))
      << ReadFile(dir_.path() + "/daemon.log");
}

// The `secret` CLI's output unseals in the daemon, and the CLI unseals what the daemon would.
TEST_F(DaemonTest, SecretCliRoundTripsThroughTheDaemon) {
  auto keygen = RunCommand({SecretBinary(), "keygen", "--kid", "demo", "--output-dir", dir_.path()});
  ASSERT_EQ(keygen.exit_code, 0) << keygen.err;
  // Publish the public key and the secret as broker resources.
  nlohmann::json resources = nlohmann::json::parse(ReadFile(resource_file_));
  resources["default/signing-key/demo"] = Base64StdEncode(ReadFile(dir_.path() + "/demo-public.json"));
  resources["default/app/key"] = Base64StdEncode(std::string("dataset-key\x00\x01", 13));
  dir_.Write("resources.json", resources.dump());

  auto seal = RunCommand({SecretBinary(), "seal", "--signing-kid", "kbs:///default/signing-key/demo",
                          "--signing-jwk-path", dir_.path() + "/demo-private.json", "vault", "--resource-uri",
                          "kbs:///default/app/key", "--provider", "kbs"});
  ASSERT_EQ(seal.exit_code, 0) << seal.err;
  std::string sealed = seal.out;
  ASSERT_EQ(sealed.rfind("sealed.", 0), 0u) << sealed;
  EXPECT_THAT(std::string(seal.err), ::testing::HasSubstr("Warning: Secrets must be provisioned"));

  auto daemon = Start(config_);
  std::string plaintext;
  grpc::Status st = Unseal(sealed, &plaintext);  // with the CLI's trailing newline
  ASSERT_THAT(st, IsOk()) << st.error_message();
  EXPECT_EQ(plaintext, std::string("dataset-key\x00\x01", 13));

  std::string file = dir_.Write("pointer", sealed);
  auto unseal = RunCommand({SecretBinary(), "unseal", "-f", file, "-c", config_});
  ASSERT_EQ(unseal.exit_code, 0) << unseal.err;
  EXPECT_EQ(ReadFile(file + ".unsealed"), std::string("dataset-key\x00\x01", 13));
  // It refuses to overwrite.
  EXPECT_NE(RunCommand({SecretBinary(), "unseal", "-f", file, "-c", config_}).exit_code, 0);
  // The private key file is owner-only.
  struct stat stt;
  ASSERT_EQ(stat((dir_.path() + "/demo-private.json").c_str(), &stt), 0);
  EXPECT_EQ(stt.st_mode & 0777, 0600u);
}

// An envelope secret sealed with the CLI for the `kbs` provider unseals in the daemon.
TEST_F(DaemonTest, EnvelopeSecretSealedWithTheCliUnsealsInTheDaemon) {
  ASSERT_EQ(RunCommand({SecretBinary(), "keygen", "--kid", "env", "--output-dir", dir_.path()}).exit_code, 0);
  std::string kek(32, '\0');
  for (int i = 0; i < 32; ++i) kek[i] = static_cast<char>(0xa0 + i);
  std::string kek_path = dir_.Write("kek.bin", kek);
  std::string secret_path = dir_.Write("db-password.txt", "correct horse battery staple\n");
  nlohmann::json resources = nlohmann::json::parse(ReadFile(resource_file_));
  resources["default/signing-key/env"] = Base64StdEncode(ReadFile(dir_.path() + "/env-public.json"));
  resources["default/kek/1"] = Base64StdEncode(kek);
  dir_.Write("resources.json", resources.dump());

  auto seal = RunCommand({SecretBinary(), "seal", "--signing-kid", "kbs:///default/signing-key/env",
                          "--signing-jwk-path", dir_.path() + "/env-private.json", "envelope", "-k",
                          "kbs:///default/kek/1", "-f", secret_path, "kbs", "--kek-path", kek_path});
  ASSERT_EQ(seal.exit_code, 0) << seal.err;
  EXPECT_THAT(seal.out, ::testing::Not(::testing::HasSubstr("correct horse")));
  auto daemon = Start(config_);
  std::string plaintext;
  grpc::Status st = Unseal(seal.out, &plaintext);
  ASSERT_THAT(st, IsOk()) << st.error_message();
  EXPECT_EQ(plaintext, "correct horse battery staple\n");

  // The broker's KEK changed: authentication fails, nothing is returned.
  resources["default/kek/1"] = Base64StdEncode(std::string(32, 'z'));
  dir_.Write("resources.json", resources.dump());
  st = Unseal(seal.out, &plaintext);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED) << st.error_message();
  EXPECT_TRUE(plaintext.empty());
}

// UnWrapKey with a packet built by an independent implementation (python3-cryptography).
TEST_F(DaemonTest, UnWrapKeyReturnsTheLayerKeyAsOcicryptParsesIt) {
  std::string kek_hex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
  nlohmann::json resources = nlohmann::json::parse(ReadFile(resource_file_));
  std::string kek;
  for (int i = 0; i < 32; ++i) kek.push_back(static_cast<char>(i));
  resources["default/image-kek/layer"] = Base64StdEncode(kek);
  dir_.Write("resources.json", resources.dump());
  auto daemon = Start(config_);
  std::string script = SourcePath("tests/tools/make_keyprovider_input.py");
  for (const char* version : {"v1", "v2"}) {
    auto made = RunCommand({"/usr/bin/python3", script, kek_hex, "ff00ab", "kbs:///default/image-kek/layer", version});
    ASSERT_EQ(made.exit_code, 0) << made.err;
    grpc::ClientContext ctx;
    keyprovider::KeyProviderKeyWrapProtocolInput req;
    req.set_keyproviderkeywrapprotocolinput(made.out);
    keyprovider::KeyProviderKeyWrapProtocolOutput resp;
    grpc::Status st = keyprovider::KeyProviderService::NewStub(Channel())->UnWrapKey(&ctx, req, &resp);
    ASSERT_THAT(st, IsOk()) << version << ": " << st.error_message();
    EXPECT_EQ(resp.keyproviderkeywrapprotocoloutput(), R"({"keyunwrapresults":{"optsdata":[255,0,171]}})");
  }
  grpc::ClientContext ctx;
  keyprovider::KeyProviderKeyWrapProtocolInput req;
  req.set_keyproviderkeywrapprotocolinput(R"({"op":"keyunwrap","keywrapparams":{},"keyunwrapparams":{"dc":null}})");
  keyprovider::KeyProviderKeyWrapProtocolOutput resp;
  grpc::Status st = keyprovider::KeyProviderService::NewStub(Channel())->UnWrapKey(&ctx, req, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(std::string(st.error_message()), ::testing::HasSubstr("no AnnotationPacket"));
}

// A request whose bytes are not the method's protobuf message is the caller's mistake:
// INVALID_ARGUMENT over gRPC, as over ttrpc (docs/errors.md), not gRPC's own INTERNAL "".
TEST_F(DaemonTest, UndecodableGrpcRequestIsInvalidArgument) {
  auto daemon = Start(config_);
  grpc::GenericStub stub(Channel());
  for (const char* method : {"/api.SealedSecretService/UnsealSecret", "/api.GetResourceService/GetResource",
                             "/keyprovider.KeyProviderService/UnWrapKey"}) {
    const std::string garbage("\xff\xff\xff\xff\x0f", 5);  // a field tag with the invalid wire type 7
    grpc::Slice slice(garbage);
    grpc::ByteBuffer request(&slice, 1), response;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    std::promise<grpc::Status> done;
    stub.UnaryCall(&ctx, method, grpc::StubOptions(), &request, &response,
                   [&done](grpc::Status st) { done.set_value(std::move(st)); });
    grpc::Status st = done.get_future().get();
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << method << ": " << st.error_message();
    EXPECT_THAT(std::string(st.error_message()), ::testing::HasSubstr("not a valid")) << method;
  }
}

// A field that selects behaviour is checked: UnWrapKey with `op` other than "keyunwrap" is
// refused instead of being served as an unwrap.
TEST_F(DaemonTest, UnwrapKeyWithAnotherOpIsInvalidArgument) {
  auto daemon = Start(config_);
  for (const char* op : {"keywrap", "", "KEYUNWRAP"}) {
    grpc::ClientContext ctx;
    keyprovider::KeyProviderKeyWrapProtocolInput req;
    req.set_keyproviderkeywrapprotocolinput(
        std::string(R"({"op":")") + op + R"(","keywrapparams":{},"keyunwrapparams":{"dc":null,"annotation":"e30="}})");
    keyprovider::KeyProviderKeyWrapProtocolOutput resp;
    grpc::Status st = keyprovider::KeyProviderService::NewStub(Channel())->UnWrapKey(&ctx, req, &resp);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << op;
    EXPECT_THAT(std::string(st.error_message()), ::testing::HasSubstr("`op`")) << op;
  }
}

}  // namespace
}  // namespace cdh::testing
