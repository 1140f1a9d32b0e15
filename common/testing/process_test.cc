#include "common/testing/process.h"

#include <signal.h>

#include <fstream>
#include <sstream>

#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cdh::testing {
namespace {

using ::testing::HasSubstr;

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(RunCommandTest, CapturesStdoutStderrAndExitCode) {
  CommandResult r = RunCommand({"/bin/sh", "-c", "cat; echo oops >&2; exit 3"}, "from stdin");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.out, "from stdin");
  EXPECT_EQ(r.err, "oops\n");
}

TEST(RunCommandTest, TimeoutKillsTheChild) {
  CommandResult r = RunCommand({"/bin/sleep", "30"}, "", absl::Milliseconds(100));
  EXPECT_EQ(r.exit_code, -1);
}

TEST(RunCommandTest, MissingProgramIsReported) {
  CommandResult r = RunCommand({"/nonexistent/program"});
  EXPECT_EQ(r.exit_code, -1);
  EXPECT_THAT(r.err, HasSubstr("spawn failed"));
}

TEST(ChildProcessTest, WaitReturnsTheExitCodeAndLogsOutput) {
  TempDir dir("cdh-process-test");
  auto child = ChildProcess::Start({"/bin/sh", "-c", "echo out; echo err >&2; exit 7"},
                                   {.env = std::vector<std::string>{"A=1"}, .log_path = dir.File("log")});
  ASSERT_THAT(child, IsOk());
  EXPECT_EQ((*child)->Wait(absl::Seconds(10)), 7);
  EXPECT_FALSE((*child)->Running());
  EXPECT_EQ(Slurp(dir.File("log")), "out\nerr\n");
}

TEST(ChildProcessTest, StopSendsSigtermAndWaitTimesOut) {
  auto child = ChildProcess::Start({"/bin/sleep", "30"});
  ASSERT_THAT(child, IsOk());
  EXPECT_EQ((*child)->Wait(absl::Milliseconds(50)), std::nullopt);
  EXPECT_TRUE((*child)->Running());
  EXPECT_EQ((*child)->Stop(absl::Seconds(10)), -1);  // ended by SIGTERM
  EXPECT_FALSE((*child)->Running());
}

TEST(ChildProcessTest, MissingProgramIsUnavailable) {
  EXPECT_THAT(ChildProcess::Start({"/nonexistent/program"}), StatusIs(absl::StatusCode::kUnavailable, "spawn"));
}

TEST(TempDirTest, WritesFilesAndRemovesItself) {
  std::string path;
  {
    TempDir dir("cdh-tempdir-test");
    path = dir.path();
    EXPECT_EQ(Slurp(dir.Write("a/b.txt", "hello")), "hello");
    EXPECT_EQ(dir.File("x"), path + "/x");
  }
  EXPECT_FALSE(std::ifstream(path + "/a/b.txt").good());
}

}  // namespace
}  // namespace cdh::testing
