#include "common/unix_socket_address.h"

#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cdh {
namespace {

using ::cdh::testing::IsOk;

using ::cdh::testing::StatusIs;

TEST(UnixSocketAddressTest, ParsesUpstreamForm) {
  auto a = UnixSocketAddress::Parse("unix:///run/confidential-containers/cdh.sock");
  ASSERT_THAT(a, IsOk());
  EXPECT_EQ(a->path(), "/run/confidential-containers/cdh.sock");
  EXPECT_EQ(a->uri(), "unix:///run/confidential-containers/cdh.sock");
  EXPECT_EQ(*a, *UnixSocketAddress::Parse(a->uri()));
}

TEST(UnixSocketAddressTest, RejectsOtherForms) {
  for (const char* bad : {"", "unix:", "unix://", "unix://relative.sock", "unix:relative.sock", "/run/cdh.sock",
                          "tcp://127.0.0.1:1", "vsock://3:1024", "UNIX:///run/cdh.sock"}) {
    EXPECT_THAT(UnixSocketAddress::Parse(bad), StatusIs(absl::StatusCode::kInvalidArgument, "unix:///")) << bad;
  }
}

TEST(UnixSocketAddressTest, RelativePathIsNamedAsSuch) {
  EXPECT_THAT(UnixSocketAddress::Parse("unix://relative/path.sock"),
              StatusIs(absl::StatusCode::kInvalidArgument, "names a relative path"));
}

TEST(UnixSocketAddressTest, AcceptsTheSingleSlashForm) {
  auto a = UnixSocketAddress::Parse("unix:/run/cdh.sock");
  ASSERT_THAT(a, IsOk());
  EXPECT_EQ(a->path(), "/run/cdh.sock");
  EXPECT_EQ(a->uri(), "unix:///run/cdh.sock");
}

TEST(UnixSocketAddressTest, PathMustFitSunPath) {
  std::string longest = "/" + std::string(UnixSocketAddress::kMaxPathBytes - 1, 'a');
  EXPECT_TRUE(UnixSocketAddress::Parse("unix://" + longest).ok());
  EXPECT_THAT(UnixSocketAddress::Parse("unix://" + longest + "a"),
              StatusIs(absl::StatusCode::kInvalidArgument, "longer than 107 bytes"));
}

}  // namespace
}  // namespace cdh
