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
  absl::Status launched = rig->Launch();
  if (!launched.ok()) return launched;
  return rig;
}

absl::Status SwtpmRig::Launch(bool startup_clear) {
  std::vector<std::string> args = {"swtpm",
                                   "socket",
                                   "--tpm2",
                                   "--tpmstate",
                                   "dir=" + dir_ + "/state",
                                   "--server",
                                   "type=unixio,path=" + socket_,
                                   "--ctrl",
                                   "type=unixio,path=" + socket_ + ".ctrl",
                                   "--flags",
                                   startup_clear ? "not-need-init,startup-clear" : "not-need-init",
                                   "--log",
                                   "file=" + dir_ + "/swtpm.log,level=1"};
  pid_t pid = ::fork();
  if (pid < 0) return absl::UnavailableError("fork failed");
  if (pid == 0) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execvp("swtpm", argv.data());
    ::_exit(127);
  }
  pid_ = pid;
  absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (absl::Now() < deadline) {
    int status;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      pid_ = -1;
      return absl::UnavailableError(StrCat("swtpm exited during start (see ", dir_, "/swtpm.log)"));
    }
    if (CanConnect(socket_ + ".ctrl") && CanConnect(socket_)) return absl::OkStatus();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return absl::UnavailableError("swtpm did not open its socket within 20 s");
}

void SwtpmRig::Kill() {
  if (pid_ <= 0) return;
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
  pid_ = -1;
}

absl::Status SwtpmRig::Restart(bool startup_clear) {
  Kill();
  std::error_code ec;
  std::filesystem::remove(socket_, ec);
  std::filesystem::remove(socket_ + ".ctrl", ec);
  return Launch(startup_clear);
}

SwtpmRig::~SwtpmRig() {
  Kill();
  std::error_code ec;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

}  // namespace cdh::attestation
