// Paths of the build and source trees for end-to-end tests, and the shared test helpers they
// use with them (common/testing: TempDir, ReadFile, RunCommand, ChildProcess; status matchers).
// The daemon fixtures are in tests/daemon_fixture.h.
#ifndef CDH_TESTS_TEST_UTIL_H_
#define CDH_TESTS_TEST_UTIL_H_

#include <string>

#include "common/testing/process.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"

namespace cdh::testing {

// Absolute path of a file in the build tree (e.g. "kbs-dev/kbs-dev") and in the source tree.
// CDH_BINARY_DIR / CDH_SOURCE_DIR in the environment override the trees compiled in.
std::string BinaryPath(const std::string& relative);
std::string SourcePath(const std::string& relative);

// The built binaries (their paths come from CMake, wherever the targets live).
std::string DaemonBinary();   // confidential-data-hub
std::string CdhToolBinary();  // cdh-tool
std::string SecretBinary();   // secret

}  // namespace cdh::testing

#endif  // CDH_TESTS_TEST_UTIL_H_
