#include "tests/image/registry_fixture.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/str_split.h"
#include "crypto/hash.h"
#include "nlohmann/json.hpp"
#include "tests/test_util.h"

extern char** environ;

namespace cdh::testing {
namespace {

namespace fs = std::filesystem;

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteAll(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

// Starts argv with stdout and stderr appended to `log`; returns the pid or -1.
pid_t SpawnLogged(const std::vector<std::string>& argv, const std::string& log) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  return rc == 0 ? pid : -1;
}

void StopPid(pid_t& pid) {
  if (pid <= 0) return;
  kill(pid, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    if (waitpid(pid, nullptr, WNOHANG) == pid) {
      pid = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // bounded reap poll, not synchronisation
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  pid = -1;
}

bool Exited(pid_t pid) { return waitpid(pid, nullptr, WNOHANG) == pid; }

// Polls `predicate` every 20 ms for up to `seconds`; the process we wait for announces readiness
// only through its log/port file, which has no event to wait on.
template <typename F>
bool PollUntil(F predicate, int seconds) {
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (predicate()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

}  // namespace

absl::StatusOr<TestTls> MakeTestTls(const std::string& dir) {
  const std::string openssl = "/usr/bin/openssl";
  if (access(openssl.c_str(), X_OK) != 0) return absl::FailedPreconditionError("openssl is not installed");
  fs::create_directories(dir);
  WriteAll(dir + "/leaf.ext",
           "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
           "subjectAltName=IP:127.0.0.1\n");
  const std::vector<std::vector<std::string>> commands = {
      {openssl,
       "req",
       "-x509",
       "-newkey",
       "ec",
       "-pkeyopt",
       "ec_paramgen_curve:P-256",
       "-nodes",
       "-keyout",
       dir + "/ca.key",
       "-out",
       dir + "/ca.crt",
       "-days",
       "2",
       "-subj",
       "/CN=cdh test CA",
       "-addext",
       "basicConstraints=critical,CA:TRUE",
       "-addext",
       "keyUsage=critical,keyCertSign,cRLSign"},
      {openssl, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", dir + "/leaf.key",
       "-out", dir + "/leaf.csr", "-subj", "/CN=127.0.0.1"},
      {openssl, "x509", "-req", "-in", dir + "/leaf.csr", "-CA", dir + "/ca.crt", "-CAkey", dir + "/ca.key",
       "-CAcreateserial", "-out", dir + "/leaf.crt", "-days", "2", "-extfile", dir + "/leaf.ext"},
  };
  for (const auto& argv : commands) {
    CommandResult r = RunCommand(argv, "", 60);
    if (r.exit_code != 0) return absl::InternalError("openssl failed: " + r.err);
  }
  return TestTls{Slurp(dir + "/ca.crt"), dir + "/leaf.crt", dir + "/leaf.key"};
}

absl::StatusOr<std::unique_ptr<LocalRegistry>> LocalRegistry::Start(const std::string& dir, RegistryAuth auth,
                                                                    const TestTls* tls) {
  if (access("/usr/bin/docker-registry", X_OK) != 0) {
    return absl::FailedPreconditionError("docker-registry is not installed (scripts/install-deps.sh)");
  }
  fs::create_directories(dir + "/data");
  auto reg = std::unique_ptr<LocalRegistry>(new LocalRegistry());
  reg->auth_ = auth;
  reg->log_path_ = dir + "/registry.log";
  std::string config = "version: 0.1\nlog:\n  level: info\nstorage:\n  filesystem:\n    rootdirectory: " + dir +
                       "/data\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:0\n";
  if (tls != nullptr) config += "  tls:\n    certificate: " + tls->cert_path + "\n    key: " + tls->key_path + "\n";
  if (auth == RegistryAuth::kHtpasswd) {
    CommandResult h = RunCommand({"/usr/bin/htpasswd", "-Bbn", kUser, kPassword});
    if (h.exit_code != 0) return absl::FailedPreconditionError("htpasswd failed: " + h.err);
    WriteAll(dir + "/htpasswd", h.out);
    config += "auth:\n  htpasswd:\n    realm: test-realm\n    path: " + dir + "/htpasswd\n";
  } else if (auth == RegistryAuth::kToken) {
    std::string port_file = dir + "/token.port";
    reg->token_pid_ = SpawnLogged({"/usr/bin/python3", SourcePath("tests/image/token_server.py"), port_file,
                                   dir + "/token.crt", "test-issuer", "test-registry", Creds()},
                                  dir + "/token.log");
    if (reg->token_pid_ < 0) return absl::FailedPreconditionError("cannot start token_server.py");
    if (!PollUntil([&] { return access(port_file.c_str(), R_OK) == 0 || Exited(reg->token_pid_); }, 20) ||
        access(port_file.c_str(), R_OK) != 0) {
      return absl::UnavailableError("token server did not start: " + Slurp(dir + "/token.log"));
    }
    config += "auth:\n  token:\n    realm: http://127.0.0.1:" + Slurp(port_file) +
              "/token\n    service: test-registry\n    issuer: test-issuer\n    rootcertbundle: " + dir +
              "/token.crt\n";
  }
  WriteAll(dir + "/config.yml", config);
  reg->registry_pid_ = SpawnLogged({"/usr/bin/docker-registry", "serve", dir + "/config.yml"}, reg->log_path_);
  if (reg->registry_pid_ < 0) return absl::FailedPreconditionError("cannot start docker-registry");
  constexpr char kListening[] = "listening on 127.0.0.1:";
  bool up = PollUntil(
      [&] { return Slurp(reg->log_path_).find(kListening) != std::string::npos || Exited(reg->registry_pid_); }, 20);
  std::string log = Slurp(reg->log_path_);
  size_t at = log.find(kListening);
  if (!up || at == std::string::npos) return absl::UnavailableError("docker-registry did not start: " + log);
  size_t start = at + sizeof(kListening) - 1;
  size_t end = log.find_first_not_of("0123456789", start);
  reg->host_ = "127.0.0.1:" + log.substr(start, end - start);
  return reg;
}

LocalRegistry::~LocalRegistry() {
  StopPid(registry_pid_);
  StopPid(token_pid_);
}

std::string LocalRegistry::AuthJson() const {
  std::string creds = Creds();
  return "{\"auths\":{\"" + host_ + "\":{\"auth\":\"" +
         absl::Base64Escape(absl::string_view(creds.data(), creds.size())) + "\"}}}";
}

ImageBuilder::ImageBuilder(std::string work_dir) : work_dir_(std::move(work_dir)) { fs::create_directories(work_dir_); }

absl::Status ImageBuilder::Run(const std::vector<std::string>& argv) {
  CommandResult r = RunCommand(argv, "", 300);
  if (r.exit_code != 0) {
    std::string cmd;
    for (const auto& a : argv) cmd += a + " ";
    return absl::InternalError(cmd + "failed: " + r.err + r.out);
  }
  return absl::OkStatus();
}

absl::Status ImageBuilder::Build(const std::string& name, const std::vector<LayerSpec>& layers,
                                 const std::vector<std::string>& config_args) {
  const std::string umoci = "/usr/bin/umoci";
  if (access(umoci.c_str(), X_OK) != 0) return absl::FailedPreconditionError("umoci is not installed");
  if (!initialised_) {
    if (!fs::exists(layout() + "/index.json")) {
      auto st = Run({umoci, "init", "--layout", layout()});
      if (!st.ok()) return st;
    }
    initialised_ = true;
  }
  std::string image = layout() + ":" + name;
  auto st = Run({umoci, "new", "--image", image});
  if (!st.ok()) return st;
  std::vector<std::string> rootless;
  if (geteuid() != 0) rootless.push_back("--rootless");
  for (const LayerSpec& layer : layers) {
    std::string bundle = work_dir_ + "/bundle-" + name;
    fs::remove_all(bundle);
    std::vector<std::string> unpack = {umoci, "unpack"};
    unpack.insert(unpack.end(), rootless.begin(), rootless.end());
    unpack.insert(unpack.end(), {"--image", image, bundle});
    if (!(st = Run(unpack)).ok()) return st;
    if (!layer.source_dir.empty()) {
      if (!(st = Run({"/bin/cp", "-a", layer.source_dir + "/.", bundle + "/rootfs/"})).ok()) return st;
    }
    for (const std::string& r : layer.remove) fs::remove_all(bundle + "/rootfs/" + r);
    std::vector<std::string> repack = {umoci, "repack"};
    repack.insert(repack.end(), rootless.begin(), rootless.end());
    repack.insert(repack.end(), {"--image", image, bundle});
    if (!(st = Run(repack)).ok()) return st;
    fs::remove_all(bundle);
  }
  if (!config_args.empty()) {
    std::vector<std::string> config = {umoci, "config"};
    if (geteuid() != 0) config.push_back("--rootless");
    config.insert(config.end(), {"--image", image});
    config.insert(config.end(), config_args.begin(), config_args.end());
    if (!(st = Run(config)).ok()) return st;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ImageBuilder::ManifestDigest(const std::string& name) {
  auto index = nlohmann::json::parse(Slurp(layout() + "/index.json"), nullptr, /*allow_exceptions=*/false);
  if (!index.is_object() || !index["manifests"].is_array()) return absl::InternalError("bad index.json");
  for (const auto& m : index["manifests"]) {
    if (m.value("/annotations/org.opencontainers.image.ref.name"_json_pointer, "") == name) {
      return m.value("digest", "");
    }
  }
  return absl::NotFoundError("no image " + name + " in the layout");
}

absl::StatusOr<std::string> ImageBuilder::BuildIndex(
    const std::string& name, const std::vector<std::pair<std::string, std::string>>& platform_images) {
  const std::string index_path = layout() + "/index.json";
  auto top = nlohmann::json::parse(Slurp(index_path), nullptr, /*allow_exceptions=*/false);
  if (!top.is_object() || !top["manifests"].is_array()) return absl::InternalError("bad index.json");
  nlohmann::json entries = nlohmann::json::array();
  for (const auto& [image, platform] : platform_images) {
    nlohmann::json descriptor;
    for (const auto& m : top["manifests"]) {
      if (m.value("/annotations/org.opencontainers.image.ref.name"_json_pointer, "") == image) descriptor = m;
    }
    if (descriptor.is_null()) return absl::NotFoundError("no image " + image + " in the layout");
    descriptor.erase("annotations");
    std::vector<std::string> parts = absl::StrSplit(platform, '/');
    descriptor["platform"] = {{"os", parts[0]}, {"architecture", parts.size() > 1 ? parts[1] : ""}};
    if (parts.size() > 2) descriptor["platform"]["variant"] = parts[2];
    entries.push_back(descriptor);
  }
  nlohmann::json index = {
      {"schemaVersion", 2}, {"mediaType", "application/vnd.oci.image.index.v1+json"}, {"manifests", entries}};
  std::string bytes = index.dump();
  std::string hex = crypto::HexEncode(crypto::Sha256(bytes));
  WriteAll(layout() + "/blobs/sha256/" + hex, bytes);
  nlohmann::json& manifests = top["manifests"];
  for (size_t i = manifests.size(); i-- > 0;) {
    if (manifests[i].value("/annotations/org.opencontainers.image.ref.name"_json_pointer, "") == name) {
      manifests.erase(i);
    }
  }
  manifests.push_back({{"mediaType", "application/vnd.oci.image.index.v1+json"},
                       {"digest", "sha256:" + hex},
                       {"size", bytes.size()},
                       {"annotations", {{"org.opencontainers.image.ref.name", name}}}});
  WriteAll(index_path, top.dump());
  return "sha256:" + hex;
}

absl::StatusOr<std::string> ImageBuilder::Skopeo(const std::vector<std::string>& args) {
  // Its own blob-info cache (spec §9.1): skopeo would otherwise reuse compressions across tests.
  std::vector<std::string> argv = {"/usr/bin/env", "_CONTAINERS_ROOTLESS_UID=1", "XDG_DATA_HOME=" + work_dir_ + "/xdg",
                                   "/usr/bin/skopeo"};
  argv.insert(argv.end(), args.begin(), args.end());
  CommandResult r = RunCommand(argv, "", 300);
  if (r.exit_code != 0) return absl::InternalError("skopeo failed: " + r.err);
  return r.out;
}

absl::Status ImageBuilder::Push(const std::string& name, const std::string& docker_ref,
                                const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"copy", "--dest-tls-verify=false"};
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back("oci:" + layout() + ":" + name);
  args.push_back("docker://" + docker_ref);
  auto out = Skopeo(args);
  return out.ok() ? absl::OkStatus() : out.status();
}

std::string WriteTreeFile(const std::string& root, const std::string& relative, const std::string& content, int mode) {
  std::string path = root + "/" + relative;
  fs::create_directories(fs::path(path).parent_path());
  WriteAll(path, content);
  chmod(path.c_str(), static_cast<mode_t>(mode));
  return path;
}

}  // namespace cdh::testing
