// confidential-data-hub, attestation-agent, api-server-rest: one binary for the three guest
// components (cdh-api.md §4, §14; the launch mechanism: daemon/role_control.h). Composition root:
// the only place that reads the environment and the command line; the role is the name it was
// started by (argv[0]'s base name; the build installs the other two names as links).
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "attestation/tpm/esys_tpm.h"
#include "common/file_util.h"
#include "common/module_loader.h"
#include "daemon/block_device_volume.h"
#include "daemon/composition.h"
#include "daemon/config.h"
#include "daemon/guest_daemon.h"
#include "daemon/role_control.h"
#include "http/curl_http_client.h"
#include "image/layer_codecs.h"
#include "server/grpc_server.h"
#include "server/rest_front.h"

namespace {

constexpr char kVersion[] = "0.1.0";
constexpr size_t kMaxConfigSize = 1 << 20;
// How long an entry point waits for the daemon to start its role (attesting, fetching startup
// credentials); the kata agent itself gives each process launch_process_timeout.
constexpr absl::Duration kJoinTimeout = absl::Seconds(120);

// --check-modules: loads every module installed beside the daemon (common/module_loader.h), as a
// call needing it would, so that a guest image with a module missing, or from another build,
// fails when it is built rather than at the first call that needs the module. 0 when all load.
// Prints each module's load time: the one-time cost of the first call that needs it.
int CheckModules() {
  struct Module {
    const char* file;
    std::vector<const char*> entries;  // every entry point the daemon resolves in it
    const char* what;
  };
  const Module modules[] = {
      {cdh::kGrpcModuleFile, {cdh::kGrpcModuleEntry, cdh::kGrpcAaModuleEntry}, "gRPC (grpc_socket, grpc-aa)"},
      {cdh::http::kCurlModuleFile,
       {cdh::http::kCurlModuleNewClient, cdh::http::kCurlModuleCheckUrl},
       "HTTP (cc_kbc, image pulls, Azure IMDS)"},
      {cdh::kStorageModuleFile, {cdh::kStorageModuleNewDriver}, "SecureMount block-device"},
      {cdh::attestation::kTpmModuleFile, {cdh::attestation::kTpmModuleOpen}, "TPM attesters"},
      {cdh::image::kImageModuleFile,
       {cdh::image::kImageModuleUnpackTar, cdh::image::kImageModuleNewDecoder},
       "image layers (PullImage)"},
      {cdh::kRestModuleFile, {cdh::kRestModuleStart}, "the REST front (api-server-rest)"},
  };
  int failed = 0;
  for (const Module& m : modules) {
    const absl::Time start = absl::Now();
    absl::Status loaded;
    for (const char* entry : m.entries) {
      if (loaded = cdh::ModuleSymbol(m.file, entry, m.what).status(); !loaded.ok()) break;
    }
    if (loaded.ok()) {
      // What the first call needing the module pays once for loading it.
      std::cout << m.file << ": loaded in " << absl::FormatDuration(absl::Now() - start) << " (" << m.what << ")\n";
    } else {
      std::cout << m.file << ": " << loaded.message() << "\n";
      ++failed;
    }
  }
  return failed == 0 ? 0 : 1;
}

std::map<std::string, std::string> ReadEnvironment() {
  std::map<std::string, std::string> env;
  for (const char* name : {"AA_KBC_PARAMS", "OFFLINE_FS_KBC_EXTRA_FILE_PATH", "RUST_LOG"}) {
    if (const char* v = std::getenv(name); v != nullptr) env[name] = v;
  }
  return env;
}

std::string Absolute(const std::string& path) {
  if (path.empty() || path.front() == '/') return path;
  char cwd[4096];
  if (::getcwd(cwd, sizeof(cwd)) == nullptr) return path;
  return std::string(cwd) + "/" + path;
}

int Fail(std::string_view role, const std::string& what, const absl::Status& status) {
  std::cerr << role << ": " << what << ": " << status.message() << std::endl;
  return 1;
}

// The request and the control socket of this entry point, from its command line; std::nullopt
// after --help/--version/--check-modules (`exit_code` set).
struct Invocation {
  std::string role;
  nlohmann::json request;
  std::string control_socket;
};

std::optional<Invocation> ParseDataHub(int argc, char** argv, int& exit_code) {
  CLI::App app{
      "Confidential Data Hub: unseals secrets, fetches KBS resources and mounts encrypted "
      "storage inside a confidential VM.",
      cdh::kCdhRole};
  cdh::CdhRoleRequest request;
  std::string config_path;
  bool show_version = false;
  app.add_option("-c,--config", config_path, "Configuration file (.toml or .json)");
  app.add_option("--kernel-cmdline", request.kernel_cmdline_path,
                 "Kernel command line to read agent.aa_kbc_params and cdh.kbs_resources from")
      ->capture_default_str();
  app.add_flag("-V,--version", show_version, "Print the version and exit");
  bool check_modules = false;
  app.add_flag(
      "--check-modules", check_modules,
      "Load every module installed beside the daemon (gRPC, libcurl, storage, TPM, image layers, REST) and exit: 0 "
      "when all load");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    exit_code = app.exit(e);
    return std::nullopt;
  }
  if (check_modules) {
    exit_code = CheckModules();
    return std::nullopt;
  }
  if (show_version) {
    std::cout << "confidential-data-hub " << kVersion << " (cdh, C++)\n"
              << "kbs: enabled\nkms plugins: kbs\n";
    exit_code = 0;
    return std::nullopt;
  }
  if (!config_path.empty()) request.config_path = Absolute(config_path);
  request.kernel_cmdline_path = Absolute(request.kernel_cmdline_path);
  request.env = ReadEnvironment();
  // The control socket sits next to the data hub's socket, which the configuration names.
  cdh::ConfigSources sources;
  sources.env = request.env;
  if (auto cmdline = cdh::ReadPseudoFile(request.kernel_cmdline_path, 64 << 10); cmdline.ok()) {
    sources.kernel_cmdline = *cmdline;
  }
  if (request.config_path.has_value()) {
    auto text = cdh::ReadFileBounded(*request.config_path, kMaxConfigSize);
    if (!text.ok()) {
      exit_code = Fail(cdh::kCdhRole, "cannot read config file", text.status());
      return std::nullopt;
    }
    sources.file_path = *request.config_path;
    sources.file_text = *text;
  }
  auto config = cdh::LoadConfig(sources, cdh::BuiltinPlugins());
  if (!config.ok()) {
    exit_code = Fail(cdh::kCdhRole, "invalid configuration", config.status());
    return std::nullopt;
  }
  return Invocation{cdh::kCdhRole, cdh::RoleRequestToJson(request),
                    cdh::ControlSocketPath(cdh::DirName(config->socket.path()))};
}

// upstream ttrpc-aa's and grpc-aa's flags (guest-components attestation-agent/attestation-agent/
// src/bin/ttrpc-aa.rs, grpc-aa/main.rs): a unix:// --attestation_sock is ttrpc-aa's, a host:port
// one grpc-aa's. --control-dir is ours.
std::optional<Invocation> ParseAttestationAgent(int argc, char** argv, int& exit_code) {
  CLI::App app{"Attestation Agent: TEE evidence, broker tokens and runtime measurement for the guest.", cdh::kAaRole};
  std::string socket = cdh::kDefaultAaSocket;
  std::string config_path, initdata_digest, initdata_toml, control_dir;
  bool show_version = false;
  app.add_option("-a,--attestation_sock", socket,
                 "unix:///path: serve ttRPC there; host:port (e.g. 127.0.0.1:50002): serve gRPC there")
      ->capture_default_str();
  app.add_option("--control-dir", control_dir,
                 "Directory of the daemon's control socket (default: two levels above a unix "
                 "--attestation_sock; /run/confidential-containers for a host:port one)");
  app.add_option("-c,--config-file", config_path, "Configuration file (aa.toml)");
  app.add_option("-i,--initdata-digest", initdata_digest, "Init-data digest to check (standard base64)");
  app.add_option("-t,--initdata-toml", initdata_toml, "Init-data TOML file to check and send to the broker");
  app.add_flag("-V,--version", show_version, "Print the version and exit");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    exit_code = app.exit(e);
    return std::nullopt;
  }
  if (show_version) {
    std::cout << "attestation-agent " << kVersion << " (cdh, C++)\n";
    exit_code = 0;
    return std::nullopt;
  }
  cdh::AaRoleRequest request;
  if (socket.starts_with("unix:")) {
    auto address = cdh::UnixSocketAddress::Parse(socket);
    if (!address.ok()) {
      exit_code = Fail(cdh::kAaRole, "bad --attestation_sock", address.status());
      return std::nullopt;
    }
    request.socket = *address;
    if (control_dir.empty()) control_dir = cdh::DirName(cdh::DirName(address->path()));
  } else {
    request.grpc_address = socket;
    if (control_dir.empty()) control_dir = "/run/confidential-containers";
  }
  if (!config_path.empty()) request.config_path = Absolute(config_path);
  if (!initdata_toml.empty()) request.initdata_toml = Absolute(initdata_toml);
  if (!initdata_digest.empty()) request.initdata_digest = initdata_digest;
  return Invocation{cdh::kAaRole, cdh::RoleRequestToJson(request), cdh::ControlSocketPath(Absolute(control_dir))};
}

// upstream api-server-rest's flags (guest-components api-server-rest/src/main.rs).
std::optional<Invocation> ParseRestFront(int argc, char** argv, int& exit_code) {
  CLI::App app{"API server: the guest components' REST front for containers (127.0.0.1:8006).", cdh::kRestRole};
  cdh::RestRoleRequest request;
  std::string cdh_addr = "unix:///run/confidential-containers/cdh.sock";
  std::string aa_addr = cdh::kDefaultAaSocket;
  bool show_version = false;
  app.add_option("-b,--bind", request.bind, "Bind address")->capture_default_str();
  app.add_option("-f,--features", request.features, "resource, attestation or all")->capture_default_str();
  app.add_option("-c,--cdh_addr", cdh_addr, "The data hub's ttrpc address (locates the daemon)")->capture_default_str();
  app.add_option("-a,--aa_addr", aa_addr, "The attestation agent's ttrpc address (served by the same daemon)")
      ->capture_default_str();
  app.add_flag("-V,--version", show_version, "Print the version and exit");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    exit_code = app.exit(e);
    return std::nullopt;
  }
  if (show_version) {
    std::cout << "api-server-rest " << kVersion << " (cdh, C++)\n";
    exit_code = 0;
    return std::nullopt;
  }
  auto address = cdh::UnixSocketAddress::Parse(cdh_addr);
  if (!address.ok()) {
    exit_code = Fail(cdh::kRestRole, "bad --cdh_addr", address.status());
    return std::nullopt;
  }
  return Invocation{cdh::kRestRole, cdh::RoleRequestToJson(request),
                    cdh::ControlSocketPath(cdh::DirName(address->path()))};
}

}  // namespace

int main(int argc, char** argv) {
  std::string_view name = argc > 0 ? argv[0] : cdh::kCdhRole;
  if (size_t slash = name.rfind('/'); slash != std::string_view::npos) name.remove_prefix(slash + 1);
  int exit_code = 0;
  std::optional<Invocation> invocation;
  if (name == cdh::kAaRole) {
    invocation = ParseAttestationAgent(argc, argv, exit_code);
  } else if (name == cdh::kRestRole) {
    invocation = ParseRestFront(argc, argv, exit_code);
  } else {
    invocation = ParseDataHub(argc, argv, exit_code);
  }
  if (!invocation.has_value()) return exit_code;

  auto console = spdlog::stderr_color_mt("cdh");
  spdlog::set_default_logger(console);

  // Block the shutdown signals before any thread starts, so only sigwait below receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  // A daemon already runs (started by another role's entry point): hand this role to it.
  auto joined = cdh::JoinDaemon(invocation->control_socket, invocation->request, kJoinTimeout);
  if (!joined.ok()) return Fail(invocation->role, "the running daemon could not start this role", joined.status());
  if (joined->has_value()) {
    pthread_sigmask(SIG_UNBLOCK, &signals, nullptr);  // a signal ends this entry point only
    spdlog::info("{}: served by the running daemon ({})", invocation->role, invocation->control_socket);
    spdlog::default_logger()->flush();
    absl::Status exec = cdh::ExecRoleWaiter(**joined, argv);  // returns only when it fails
    spdlog::warn("{}: waiting in this process: {}", invocation->role, std::string(exec.message()));
    return cdh::WaitForDaemonExit(**joined);
  }

  // No daemon: this process becomes it.
  spdlog::info("{} {} starting (one daemon for attestation-agent, confidential-data-hub and api-server-rest)",
               invocation->role, kVersion);
  cdh::GuestDaemon daemon;
  auto control = cdh::RoleControlServer::Start(invocation->control_socket,
                                               [&daemon](const nlohmann::json& r) { return daemon.AddRole(r); });
  if (!control.ok()) return Fail(invocation->role, "cannot serve the control socket", control.status());
  if (auto s = daemon.AddRole(invocation->request); !s.ok()) {
    control->reset();
    return Fail(invocation->role, "cannot start", s);
  }

  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("received signal {}, shutting down", sig);
  control->reset();  // joined entry points exit
  daemon.Shutdown(absl::Seconds(10));
  spdlog::info("stopped");
  return 0;
}
