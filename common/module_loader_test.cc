#include "common/module_loader.h"

#include <gtest/gtest.h>

#include "common/status_macros.h"
#include "common/testing/status_matchers.h"

namespace cdh {
namespace {

using ::cdh::testing::StatusIs;
using ::testing::HasSubstr;

// The test binary has no modules beside it: the failure names the file and how to fix it, is
// marked as a module-load failure, and keeps the mark through Annotate.
TEST(ModuleLoaderTest, MissingModuleIsAMarkedFailedPrecondition) {
  absl::StatusOr<void*> entry = ModuleSymbol("cdh-no-such-module.so", "cdh_entry", "Test support");
  EXPECT_THAT(entry, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("Test support cannot be loaded")));
  EXPECT_THAT(entry.status().message(), HasSubstr("install cdh-no-such-module.so beside the daemon"));
  EXPECT_TRUE(IsModuleLoadFailure(entry.status()));
  absl::Status annotated = Annotate(entry.status(), "KBS");
  EXPECT_TRUE(IsModuleLoadFailure(annotated));
  EXPECT_THAT(annotated, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("KBS: Test support")));
  EXPECT_FALSE(IsModuleLoadFailure(absl::FailedPreconditionError("certificate verify failed")));
}

}  // namespace
}  // namespace cdh
