#include "tests/test_util.h"

#include <cstdlib>

namespace cdh::testing {

std::string BinaryPath(const std::string& relative) {
  const char* dir = std::getenv("CDH_BINARY_DIR");
  return std::string(dir ? dir : CDH_TEST_BINARY_DIR) + "/" + relative;
}

std::string SourcePath(const std::string& relative) {
  const char* dir = std::getenv("CDH_SOURCE_DIR");
  return std::string(dir ? dir : CDH_TEST_SOURCE_DIR) + "/" + relative;
}

std::string DaemonBinary() { return CDH_DAEMON_PATH; }
std::string CdhToolBinary() { return CDH_TOOL_PATH; }
std::string SecretBinary() { return CDH_SECRET_PATH; }

}  // namespace cdh::testing
