#include "attestation/tpm/swtpm_rig.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "common/strings.h"

namespace cdh::attestation {
namespace {

bool CanConnect(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SwtpmRig>> SwtpmRig::Start() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "cdh-swtpm-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) return absl::UnavailableError("mkdtemp failed");
  std::unique_ptr<SwtpmRig> rig(new SwtpmRig());
  rig->dir_ = tmpl;
  rig->socket_ = tmpl + "/tpm.sock";
  std::filesystem::create_directories(tmpl + "/state");
  std::vector<std::string> args = {"swtpm",
                                   "socket",
                                   "--tpm2",
                                   "--tpmstate",
                                   "dir=" + tmpl + "/state",
                                   "--server",
                                   "type=unixio,path=" + rig->socket_,
                                   "--ctrl",
                                   "type=unixio,path=" + rig->socket_ + ".ctrl",
                                   "--flags",
                                   "not-need-init,startup-clear",
                                   "--log",
                                   "file=" + tmpl + "/swtpm.log,level=1"};
  pid_t pid = ::fork();
  if (pid < 0) return absl::UnavailableError("fork failed");
  if (pid == 0) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execvp("swtpm", argv.data());
    ::_exit(127);
  }
  rig->pid_ = pid;
  absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (absl::Now() < deadline) {
    int status;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      rig->pid_ = -1;
      return absl::UnavailableError(StrCat("swtpm exited during start (see ", tmpl, "/swtpm.log)"));
    }
    if (CanConnect(rig->socket_ + ".ctrl") && CanConnect(rig->socket_)) return rig;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return absl::UnavailableError("swtpm did not open its socket within 20 s");
}

SwtpmRig::~SwtpmRig() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    int status;
    absl::Time deadline = absl::Now() + absl::Seconds(5);
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (absl::Now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  std::error_code ec;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

}  // namespace cdh::attestation
