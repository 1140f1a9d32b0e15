#include "common/testing/status_matchers.h"

#include "gtest/gtest-spi.h"
#include "gtest/gtest.h"

namespace cdh::testing {
namespace {

using ::testing::Not;
using ::testing::StartsWith;

absl::StatusOr<int> Value() { return 7; }
absl::StatusOr<int> Missing() { return absl::NotFoundError("resource default/key/1 not found"); }

TEST(StatusMatchersTest, IsOkMatchesOkStatusAndValues) {
  EXPECT_THAT(absl::OkStatus(), IsOk());
  EXPECT_THAT(Value(), IsOk());
  EXPECT_THAT(Missing(), Not(IsOk()));
  EXPECT_THAT(absl::InternalError("x"), Not(IsOk()));
}

TEST(StatusMatchersTest, StatusIsChecksCodeAndSubstring) {
  EXPECT_THAT(Missing(), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(Missing(), StatusIs(absl::StatusCode::kNotFound, "default/key/1"));
  EXPECT_THAT(Missing(), StatusIs(absl::StatusCode::kNotFound, std::string("not found")));
  EXPECT_THAT(Missing(), StatusIs(absl::StatusCode::kNotFound, StartsWith("resource ")));
  EXPECT_THAT(Missing(), Not(StatusIs(absl::StatusCode::kInternal)));
  EXPECT_THAT(Missing(), Not(StatusIs(absl::StatusCode::kNotFound, "denied")));
  EXPECT_THAT(Value(), Not(StatusIs(absl::StatusCode::kNotFound)));
  EXPECT_THAT(absl::OkStatus(), StatusIs(absl::StatusCode::kOk));
}

TEST(StatusMatchersTest, FailureNamesTheActualStatus) {
  EXPECT_NONFATAL_FAILURE(EXPECT_THAT(Missing(), IsOk()), "NOT_FOUND: resource default/key/1 not found");
  EXPECT_NONFATAL_FAILURE(EXPECT_THAT(Missing(), StatusIs(absl::StatusCode::kPermissionDenied, "key")),
                          "has status code PERMISSION_DENIED");
}

}  // namespace
}  // namespace cdh::testing
