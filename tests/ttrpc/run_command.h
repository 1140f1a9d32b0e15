// Runs a command line through /bin/sh and captures its stdout and stderr together.
// For end-to-end tests of the real binaries; arguments must not need quoting (temp paths).
#ifndef CDH_TESTS_TTRPC_RUN_COMMAND_H_
#define CDH_TESTS_TTRPC_RUN_COMMAND_H_

#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace cdh::testing {

struct CommandResult {
  int exit_code = -1;
  std::string output;
};

inline CommandResult RunCommand(const std::string& command) {
  CommandResult r;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = ::fread(buf, 1, sizeof(buf), p)) > 0) r.output.append(buf, n);
  int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace cdh::testing

#endif  // CDH_TESTS_TTRPC_RUN_COMMAND_H_
