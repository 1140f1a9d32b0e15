// The REST front's policy: parsing (negative table) and decisions (first matching rule, cgroup
// selectors, default). The policy in use by the real daemon: tests/guest_components_e2e_test.cc.
#include "server/rest_policy.h"

#include <filesystem>
#include <fstream>

#include "common/json.h"
#include "common/strings.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "gtest/gtest.h"
#include "server/peer_process.h"

namespace cdh {
namespace {

using absl::StatusCode;
using ::cdh::testing::IsOk;
using ::cdh::testing::StatusIs;

RestPolicy Parse(std::string_view text) {
  auto json = ParseJson(text, "policy");
  EXPECT_THAT(json, IsOk());
  auto policy = RestPolicy::Parse(*json);
  EXPECT_THAT(policy, IsOk());
  return *policy;
}

TEST(RestPolicyTest, EmptyPolicyAllowsEverything) {
  RestPolicy p = Parse("{}");
  EXPECT_EQ(p.Refusal("resource:a/b/c", std::nullopt), std::nullopt);
  EXPECT_EQ(p.Refusal("aa:token", std::nullopt), std::nullopt);
  EXPECT_FALSE(p.NeedsCallerCgroup());
}

TEST(RestPolicyTest, FirstMatchingRuleDecidesThenTheDefault) {
  RestPolicy p = Parse(R"({"default": "deny", "rules": [
      {"name": "no-b", "routes": ["resource:default/b/*"], "effect": "deny"},
      {"name": "default-repo", "routes": ["resource:default/*"]},
      {"name": "pod-a-token", "cgroup": "pod-a", "routes": ["aa:token", "aa:evidence"]},
      {"name": "deny-pod-b", "cgroup": "pod-b", "routes": ["aa:*"], "effect": "deny"}]})");
  EXPECT_TRUE(p.NeedsCallerCgroup());
  EXPECT_EQ(p.Refusal("resource:default/a/1", std::nullopt), std::nullopt);
  EXPECT_EQ(p.Refusal("resource:default/b/1", std::nullopt), "no-b");
  EXPECT_EQ(p.Refusal("resource:other/a/1", std::nullopt), "default");
  EXPECT_EQ(p.Refusal("aa:token", std::string("/kubepods/pod-a/c1")), std::nullopt);
  EXPECT_EQ(p.Refusal("aa:token", std::string("/kubepods/pod-b/c1")), "deny-pod-b");
  // An unidentified caller matches no cgroup-scoped allow rule, and every cgroup-scoped deny rule.
  EXPECT_EQ(p.Refusal("aa:token", std::nullopt), "deny-pod-b");
  EXPECT_EQ(p.Refusal("aa:aael", std::string("/kubepods/pod-a/c1")), "default");
}

// With an open default, a deny rule scoped to a cgroup still refuses a caller that cannot be
// identified (its address not traceable, or it left): it might be in that cgroup.
TEST(RestPolicyTest, UnidentifiedCallerFailsClosedOnCgroupDenyRules) {
  RestPolicy p = Parse(R"({"rules": [
      {"name": "no-keys-for-pod-b", "cgroup": "pod-b", "routes": ["resource:default/key/*"], "effect": "deny"}]})");
  EXPECT_EQ(p.Refusal("resource:default/key/1", std::string("/kubepods/pod-a/c1")), std::nullopt);
  EXPECT_EQ(p.Refusal("resource:default/key/1", std::string("/kubepods/pod-b/c1")), "no-keys-for-pod-b");
  EXPECT_EQ(p.Refusal("resource:default/key/1", std::nullopt), "no-keys-for-pod-b");
  EXPECT_EQ(p.Refusal("resource:default/other/1", std::nullopt), std::nullopt);
}

TEST(RestPolicyTest, MalformedPoliciesAreRefusedNamingTheKey) {
  for (const char* bad : {
           R"([])",
           R"({"default": "maybe"})",
           R"({"rules": {}})",
           R"({"rules": [{"routes": ["aa:token"]}]})",
           R"({"rules": [{"name": "", "routes": ["aa:token"]}]})",
           R"({"rules": [{"name": "r"}]})",
           R"({"rules": [{"name": "r", "routes": []}]})",
           R"({"rules": [{"name": "r", "routes": ["cdh:resource"]}]})",
           R"({"rules": [{"name": "r", "routes": [7]}]})",
           R"({"rules": [{"name": "r", "routes": ["aa:token"], "effect": "permit"}]})",
           R"({"rules": [{"name": "r", "routes": ["aa:token"], "cgroup": ""}]})",
       }) {
    auto json = ParseJson(bad, "policy");
    ASSERT_THAT(json, IsOk()) << bad;
    EXPECT_THAT(RestPolicy::Parse(*json), StatusIs(StatusCode::kInvalidArgument)) << bad;
  }
}

TEST(PeerProcessTest, OwnCgroupAndMissingConnection) {
  auto cgroup = ProcessCgroup(getpid());
  ASSERT_THAT(cgroup, IsOk());
  EXPECT_FALSE(cgroup->empty());
  EXPECT_THAT(TcpSocketInode("127.0.0.1", 1, "127.0.0.1", 2), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(TcpSocketInode("not-an-ip", 1, "127.0.0.1", 2), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(SocketOwner(0xffffffffffULL), StatusIs(StatusCode::kNotFound));
}

// /proc/<pid>/cgroup as three kinds of host write it: the container's path is found on each.
TEST(PeerProcessTest, CgroupPathOnUnifiedHybridAndV1Hosts) {
  cdh::testing::TempDir proc;
  auto write = [&](int pid, const std::string& content) {
    std::filesystem::create_directories(StrCat(proc.path(), "/", pid));
    std::ofstream(StrCat(proc.path(), "/", pid, "/cgroup")) << content;
  };
  write(1, "0::/kubepods/pod1/cri-containerd-4f2a\n");
  write(2, "12:memory:/kubepods/pod2/cri-containerd-77aa\n4:cpu,cpuacct:/kubepods/pod2/cri-containerd-77aa\n0::/\n");
  write(3, "5:memory:/docker/abc\n1:name=systemd:/docker/abc\n");
  write(4, "4:memory:/\n0::/\n");
  EXPECT_EQ(ProcessCgroup(1, proc.path()).value_or(""), "/kubepods/pod1/cri-containerd-4f2a");
  EXPECT_EQ(ProcessCgroup(2, proc.path()).value_or(""),
            "/kubepods/pod2/cri-containerd-77aa;/kubepods/pod2/cri-containerd-77aa");
  EXPECT_EQ(ProcessCgroup(3, proc.path()).value_or(""), "/docker/abc;/docker/abc");
  EXPECT_EQ(ProcessCgroup(4, proc.path()).value_or(""), "/");
  EXPECT_THAT(ProcessCgroup(5, proc.path()), StatusIs(StatusCode::kNotFound));
  // A hybrid host's caller matches a rule naming its container.
  RestPolicy policy = Parse(
      R"({"default": "deny", "rules": [{"name": "app", "cgroup": "cri-containerd-77aa", "routes": ["resource:*"]}]})");
  EXPECT_EQ(policy.Refusal("resource:default/key/1", *ProcessCgroup(2, proc.path())), std::nullopt);
  EXPECT_EQ(policy.Refusal("resource:default/key/1", *ProcessCgroup(1, proc.path())), "default");
}

}  // namespace
}  // namespace cdh
