#include "image/reference.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"

namespace cdh::image {
namespace {

using ::cdh::testing::IsOk;
using ::cdh::testing::StatusIs;

const std::string kHex(64, 'c');

struct Case {
  std::string in, registry, repository, tag, string;
};

TEST(ImageReferenceTest, NormalisesAsDistributionReference) {
  const std::vector<Case> cases = {
      {"busybox", "docker.io", "library/busybox", "latest", "docker.io/library/busybox:latest"},
      {"foo/bar", "docker.io", "foo/bar", "latest", "docker.io/foo/bar:latest"},
      {"index.docker.io/busybox:1.36", "docker.io", "library/busybox", "1.36", "docker.io/library/busybox:1.36"},
      {"docker.io/library/busybox", "docker.io", "library/busybox", "latest", "docker.io/library/busybox:latest"},
      {"localhost/x", "localhost", "x", "latest", "localhost/x:latest"},
      {"localhost:5000/a/b:v1", "localhost:5000", "a/b", "v1", "localhost:5000/a/b:v1"},
      {"127.0.0.1:5055/test/app:v1", "127.0.0.1:5055", "test/app", "v1", "127.0.0.1:5055/test/app:v1"},
      {"quay.io/a.b/c__d/e--f_g:V1.0-x", "quay.io", "a.b/c__d/e--f_g", "V1.0-x", "quay.io/a.b/c__d/e--f_g:V1.0-x"},
      {"127.0.0.1:5055/test/app@sha256:" + kHex, "127.0.0.1:5055", "test/app", "",
       "127.0.0.1:5055/test/app@sha256:" + kHex},
      {"reg.example/app:v2@sha256:" + kHex, "reg.example", "app", "v2", "reg.example/app:v2@sha256:" + kHex},
  };
  for (const Case& c : cases) {
    auto r = ImageReference::Parse(c.in);
    ASSERT_TRUE(r.ok()) << c.in << ": " << r.status();
    EXPECT_EQ(r->registry(), c.registry) << c.in;
    EXPECT_EQ(r->repository(), c.repository) << c.in;
    EXPECT_EQ(r->tag(), c.tag) << c.in;
    EXPECT_EQ(r->String(), c.string) << c.in;
  }
}

TEST(ImageReferenceTest, DigestDecidesWhatIsFetched) {
  auto r = ImageReference::Parse("reg.example/app:v2@sha256:" + kHex);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->TagOrDigest(), "sha256:" + kHex);
  EXPECT_EQ(r->Name(), "reg.example/app");
  auto d = ImageReference::Parse("busybox");
  EXPECT_EQ(d->RegistryHost(), "index.docker.io");
  EXPECT_EQ(d->TagOrDigest(), "latest");
}

TEST(ImageReferenceTest, ShortNamesAreThoseWithoutARegistry) {
  for (const char* short_name : {"busybox", "foo/bar:1",
                                 "library/busybox@sha256:"
                                 "0000000000000000000000000000000000000000000000000000000000000000"}) {
    auto r = ImageReference::Parse(short_name);
    ASSERT_THAT(r.status(), IsOk()) << short_name;
    EXPECT_TRUE(r->IsShortName()) << short_name;
  }
  for (const char* qualified : {"docker.io/busybox", "index.docker.io/library/busybox", "localhost/x", "reg:5000/a"}) {
    auto r = ImageReference::Parse(qualified);
    ASSERT_THAT(r.status(), IsOk()) << qualified;
    EXPECT_FALSE(r->IsShortName()) << qualified;
  }
}

TEST(ImageReferenceTest, RefusesMalformedReferences) {
  for (const std::string& bad :
       {std::string(""), std::string("UPPER/case"), std::string("a//b"), std::string("a/b/"), std::string("/a"),
        std::string("a:"), std::string("a:-tag"), std::string("a:" + std::string(129, 't')),
        std::string("a@sha256:abc"), std::string("a@md5:" + kHex), std::string("[::1]:5000/a"),
        std::string("reg.example/"), std::string("a b"), std::string("a\nb"), std::string("a..b"), std::string("a-/b"),
        std::string("reg_x.example:99999x/a"), std::string("x/" + std::string(260, 'a'))}) {
    EXPECT_THAT(ImageReference::Parse(bad).status(),
                StatusIs(absl::StatusCode::kInvalidArgument, "Illegal image reference"))
        << bad;
  }
}

}  // namespace
}  // namespace cdh::image
