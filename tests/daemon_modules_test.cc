// The daemon's loadable modules (common/module_loader.h), through the real binary: each loads
// beside the daemon, an idle daemon has mapped none of the libraries behind them, and a daemon
// installed without them still serves every call that needs none, while the calls that do fail
// with FAILED_PRECONDITION naming the missing file.
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <gtest/gtest.h>

#include "common/strings.h"
#include "common/testing/process.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "proto/api.pb.h"
#include "proto/cdh_ext.pb.h"
#include "tests/daemon_fixture.h"
#include "tests/test_util.h"
#include "ttrpc/client.h"

namespace cdh::testing {
namespace {

using ::testing::HasSubstr;

constexpr const char* kModules[] = {"cdh-grpc.so", "cdh-curl.so",  "cdh-storage.so",
                                    "cdh-tpm.so",  "cdh-image.so", "cdh-rest.so"};

std::string Maps(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/maps");
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// The fixture daemon serving ttrpc only (gRPC needs its module), from `binary` ("" = the built one).
absl::StatusOr<std::unique_ptr<TestDaemon>> StartTtrpcOnly(const std::string& binary = "") {
  TestDaemonOptions options;
  options.grpc = false;
  options.binary = binary;
  return TestDaemon::Start(options);
}

TEST(DaemonModulesTest, EveryModuleLoadsBesideTheDaemon) {
  CommandResult r = RunCommand({DaemonBinary(), "--check-modules"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  for (const char* module : kModules) EXPECT_THAT(r.out, HasSubstr(std::string(module) + ": loaded in "));
}

TEST(DaemonModulesTest, IdleDaemonHasNotMappedTheLibrariesBehindItsModules) {
  auto daemon = StartTtrpcOnly();
  ASSERT_THAT(daemon, IsOk());
  auto client = ttrpc::Client::Connect((*daemon)->ttrpc_socket());
  ASSERT_THAT(client, IsOk());
  api::GetResourceRequest req;
  req.set_resourcepath(kSmallResourceUri);
  auto reply = (*client)->Call("api.GetResourceService", "GetResource", req.SerializeAsString(), absl::Seconds(30));
  ASSERT_THAT(reply, IsOk());  // offline_fs_kbc: no HTTP
  const std::string maps = Maps((*daemon)->pid());
  ASSERT_THAT(maps, HasSubstr("libstdc++"));  // the maps were read
  for (const char* library :
       {"libcurl", "libgrpc", "libcryptsetup", "libfuse3", "libtss2-esys", "libarchive", "libzstd", "libcpp-httplib",
        "libssl", "cdh-grpc.so", "cdh-curl.so", "cdh-storage.so", "cdh-tpm.so", "cdh-image.so", "cdh-rest.so"}) {
    EXPECT_THAT(maps, ::testing::Not(HasSubstr(library)));
  }
}

TEST(DaemonModulesTest, WithoutItsModulesOnlyTheCallsThatNeedThemFail) {
  TempDir dir("cdh-modules");
  const std::string binary = dir.File("confidential-data-hub");
  std::filesystem::copy_file(DaemonBinary(), binary);
  std::filesystem::permissions(binary, std::filesystem::perms::owner_all);

  CommandResult r = RunCommand({binary, "--check-modules"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  for (const char* module : kModules) {
    EXPECT_THAT(r.out, HasSubstr(StrCat(module, ": ")));
    EXPECT_THAT(r.out, HasSubstr(StrCat("install ", module, " beside the daemon")));
  }

  auto daemon = StartTtrpcOnly(binary);
  ASSERT_THAT(daemon, IsOk());
  auto client = ttrpc::Client::Connect((*daemon)->ttrpc_socket());
  ASSERT_THAT(client, IsOk());
  api::UnsealSecretInput unseal;
  unseal.set_secret(kFixtureSealedSecret);
  auto reply =
      (*client)->Call("api.SealedSecretService", "UnsealSecret", unseal.SerializeAsString(), absl::Seconds(30));
  ASSERT_THAT(reply, IsOk());
  api::UnsealSecretOutput out;
  ASSERT_TRUE(out.ParseFromString(std::string(reply->RevealString())));
  EXPECT_EQ(out.plaintext(), kFixturePlaintext);

  // Nothing mounted: the unmount is answered without the storage module.
  ext::UnmountRequest unmount;
  unmount.set_mount_point(dir.File("mnt"));
  reply = (*client)->Call("cdh.ext.SecureMountExtService", "Unmount", unmount.SerializeAsString(), absl::Seconds(30));
  EXPECT_THAT(reply, StatusIs(absl::StatusCode::kNotFound));

  api::SecureMountRequest mount;
  mount.set_volume_type("block-device");
  // Well-formed options (malformed ones are refused before the module is needed).
  for (const auto& [k, v] : std::map<std::string, std::string>{{"devicePath", dir.File("no-device")},
                                                               {"sourceType", "encrypted"},
                                                               {"encryptionType", "luks2"},
                                                               {"targetType", "fileSystem"},
                                                               {"key", "kbs:///default/luks/vol"}}) {
    (*mount.mutable_options())[k] = v;
  }
  mount.set_mount_point(dir.File("mnt"));
  reply = (*client)->Call("api.SecureMountService", "SecureMount", mount.SerializeAsString(), absl::Seconds(30));
  EXPECT_THAT(reply, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("cdh-storage.so")));
  api::SecureMountRequest malformed = mount;
  malformed.mutable_options()->erase("sourceType");
  reply = (*client)->Call("api.SecureMountService", "SecureMount", malformed.SerializeAsString(), absl::Seconds(30));
  EXPECT_THAT(reply, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("sourceType")));
  // The daemon is still there and still serves.
  reply = (*client)->Call("api.SealedSecretService", "UnsealSecret", unseal.SerializeAsString(), absl::Seconds(30));
  EXPECT_THAT(reply, IsOk());
}

}  // namespace
}  // namespace cdh::testing
