// End-to-end: SecureMount of the `block-device` volume type through the real daemon over gRPC,
// on the userspace data path (FUSE + loop + ext4). Needs root, /dev/fuse and
// /dev/loop-control; skips with the reason where they are missing. The volume key comes from
// a KBS URI served by offline_fs_kbc, so the hub's key resolver is exercised too.
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "common/base64.h"
#include "common/testing/status_matchers.h"
#include "nlohmann/json.hpp"
#include "proto/api.grpc.pb.h"
#include "proto/cdh_ext.grpc.pb.h"
#include "storage/process.h"
#include "storage/testing/luks_image.h"
#include "tests/daemon_fixture.h"
#include "tests/test_util.h"
#include "ttrpc/client.h"

namespace cdh::testing {
namespace {

using ::cdh::testing::IsOk;

class SecureMountE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = storage::testutil::MountTestSkipReason(); !why.empty()) GTEST_SKIP() << why;
    // The plaintext: an ext4 filesystem holding hello.txt, made without mounting.
    const std::string src = dir_.path() + "/src";
    std::filesystem::create_directory(src);
    std::ofstream(src + "/hello.txt") << "hello through the data hub\n";
    const std::string plain = dir_.path() + "/plain.ext4";
    std::string out;
    auto rc = storage::RunProgram({"mkfs.ext4", "-q", "-F", "-b", "4096", "-d", src, plain, "16M"}, &out);
    ASSERT_TRUE(rc.ok() && *rc == 0) << out;
    auto img = storage::testutil::MakeLuksImage(tmp_, "vol", {.sector_size = 4096, .plaintext_file = plain});
    ASSERT_THAT(img, IsOk());
    image_ = img->path;
    nlohmann::json resources = {{"default/luks/vol", Base64StdEncode(img->passphrase)}};
    const std::string res = dir_.Write("resources.json", resources.dump());
    grpc_socket_ = dir_.path() + "/run/grpc.sock";
    config_ = dir_.Write("cdh.toml", "socket = \"unix://" + dir_.path() + "/run/ttrpc.sock\"\n" +
                                         "grpc_socket = \"unix://" + grpc_socket_ + "\"\n" +
                                         "[kbc]\nname = \"offline_fs_kbc\"\n"
                                         "[offline_fs_kbc]\nresource_files = [\"" +
                                         res +
                                         "\"]\n"
                                         "[paths]\nbase_dir = \"" +
                                         dir_.path() + "/base\"\n");
    mnt_ = dir_.path() + "/mnt";
    std::filesystem::create_directory(mnt_);
    daemon_ = std::make_unique<Daemon>(config_, dir_.path() + "/daemon.log");
    ASSERT_TRUE(daemon_->WaitForSocket(grpc_socket_)) << ReadFile(dir_.path() + "/daemon.log");
  }
  void TearDown() override {
    if (daemon_ && daemon_->Running()) {
      daemon_->Signal(SIGTERM);
      daemon_->Wait(absl::Seconds(30));
    }
    if (!mnt_.empty()) {
      EXPECT_FALSE(storage::testutil::IsMountPoint(mnt_));
    }
  }

  std::shared_ptr<grpc::Channel> Channel() {
    return grpc::CreateChannel("unix:" + grpc_socket_, grpc::InsecureChannelCredentials());
  }

  grpc::Status Mount(const std::map<std::string, std::string>& options) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    api::SecureMountRequest req;
    req.set_volume_type("block-device");
    for (const auto& [k, v] : options) (*req.mutable_options())[k] = v;
    req.set_mount_point(mnt_);
    api::SecureMountResponse resp;
    return api::SecureMountService::NewStub(Channel())->SecureMount(&ctx, req, &resp);
  }

  grpc::Status Unmount() {
    grpc::ClientContext ctx;
    ext::UnmountRequest req;
    req.set_mount_point(mnt_);
    ext::UnmountResponse resp;
    return ext::SecureMountExtService::NewStub(Channel())->Unmount(&ctx, req, &resp);
  }

  std::map<std::string, std::string> Options() {
    return {{"devicePath", image_},
            {"sourceType", "encrypted"},
            {"encryptionType", "luks2"},
            {"targetType", "fileSystem"},
            {"key", "kbs:///default/luks/vol"}};
  }

  TempDir dir_;
  storage::testutil::TempDir tmp_;
  std::string image_, grpc_socket_, config_, mnt_;
  std::unique_ptr<Daemon> daemon_;
};

TEST_F(SecureMountE2eTest, MountReadRetryUnmount) {
  grpc::Status st = Mount(Options());
  ASSERT_THAT(st, IsOk()) << st.error_message() << "\n" << ReadFile(dir_.path() + "/daemon.log");
  EXPECT_EQ(ReadFile(mnt_ + "/hello.txt"), "hello through the data hub\n");
  st = Mount(Options());  // The retry is idempotent
  EXPECT_THAT(st, IsOk()) << st.error_message();
  st = Unmount();
  EXPECT_THAT(st, IsOk()) << st.error_message();
  EXPECT_FALSE(storage::testutil::IsMountPoint(mnt_));
  EXPECT_EQ(Unmount().error_code(), grpc::StatusCode::NOT_FOUND);
}

// The kata agent's transport: SecureMount and our Unmount over ttrpc (same handlers as gRPC).
TEST_F(SecureMountE2eTest, MountAndUnmountOverTtrpc) {
  const std::string sock = dir_.path() + "/run/ttrpc.sock";
  ASSERT_TRUE(daemon_->WaitForSocket(sock));
  auto client = ttrpc::Client::Connect(sock);
  ASSERT_THAT(client, IsOk());
  api::SecureMountRequest req;
  req.set_volume_type("block-device");
  for (const auto& [k, v] : Options()) (*req.mutable_options())[k] = v;
  req.set_mount_point(mnt_);
  auto reply = (*client)->Call("api.SecureMountService", "SecureMount", req.SerializeAsString(), absl::Seconds(60));
  ASSERT_THAT(reply, IsOk());
  EXPECT_EQ(ReadFile(mnt_ + "/hello.txt"), "hello through the data hub\n");
  ext::UnmountRequest un;
  un.set_mount_point(mnt_);
  reply = (*client)->Call("cdh.ext.SecureMountExtService", "Unmount", un.SerializeAsString(), absl::Seconds(60));
  ASSERT_THAT(reply, IsOk());
  EXPECT_FALSE(storage::testutil::IsMountPoint(mnt_));
}

TEST_F(SecureMountE2eTest, BadRequestsAreRefusedWithTheirCodes) {
  auto o = Options();
  o["dataIntegrity"] = "1";
  grpc::Status st = Mount(o);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  o["dataIntegrity"] = "true";
  EXPECT_EQ(Mount(o).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  o = Options();
  o["key"] = "kbs:///default/luks/missing";
  EXPECT_NE(Mount(o).error_code(), grpc::StatusCode::OK);
  EXPECT_FALSE(storage::testutil::IsMountPoint(mnt_));
}

TEST_F(SecureMountE2eTest, ShutdownTearsVolumesDown) {
  grpc::Status st = Mount(Options());
  ASSERT_THAT(st, IsOk()) << st.error_message();
  ASSERT_TRUE(storage::testutil::IsMountPoint(mnt_));
  daemon_->Signal(SIGTERM);
  EXPECT_EQ(daemon_->Wait(absl::Seconds(30)), 0);
  EXPECT_FALSE(storage::testutil::IsMountPoint(mnt_));
}

// Shutdown with a file still open on the volume: the daemon must still exit promptly (the busy
// mount is detached lazily), and no mount of ours stays in the mount table.
TEST_F(SecureMountE2eTest, ShutdownWithABusyVolumeExitsAndDetaches) {
  grpc::Status st = Mount(Options());
  ASSERT_THAT(st, IsOk()) << st.error_message();
  std::ifstream held(mnt_ + "/hello.txt");  // keeps the ext4 mount busy
  ASSERT_TRUE(held.good());
  daemon_->Signal(SIGTERM);
  EXPECT_EQ(daemon_->Wait(absl::Seconds(30)), 0) << ReadFile(dir_.path() + "/daemon.log");
  EXPECT_FALSE(storage::testutil::IsMountPoint(mnt_));
  std::ifstream f("/proc/self/mountinfo");
  for (std::string line; std::getline(f, line);) {
    EXPECT_THAT(line, ::testing::Not(::testing::HasSubstr(dir_.path()))) << line;
  }
  held.close();
}

}  // namespace
}  // namespace cdh::testing
