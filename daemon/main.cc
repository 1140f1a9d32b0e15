// confidential-data-hub: the daemon (cdh-api.md §4). Composition root: the only place that
// reads the environment and the kernel command line, builds every component, and owns them.
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "common/file_util.h"
#include "daemon/composition.h"
#include "daemon/config.h"
#include "server/api_handlers.h"
#include "server/grpc_server.h"
#include "server/ttrpc_server.h"
#include "server/unix_socket.h"

namespace {

constexpr char kVersion[] = "0.1.0";
constexpr size_t kMaxConfigSize = 1 << 20;

std::map<std::string, std::string> ReadEnvironment() {
  std::map<std::string, std::string> env;
  for (const char* name : {"AA_KBC_PARAMS", "OFFLINE_FS_KBC_EXTRA_FILE_PATH", "RUST_LOG"}) {
    if (const char* v = std::getenv(name); v != nullptr) env[name] = v;
  }
  return env;
}

int Fail(const std::string& what, const absl::Status& status) {
  std::cerr << "confidential-data-hub: " << what << ": " << status.message() << std::endl;
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Confidential Data Hub: unseals secrets, fetches KBS resources and mounts encrypted "
      "storage inside a confidential VM.",
      "confidential-data-hub"};
  std::string config_path;
  std::string cmdline_path = "/proc/cmdline";
  bool show_version = false;
  app.add_option("-c,--config", config_path, "Configuration file (.toml or .json)");
  app.add_option("--kernel-cmdline", cmdline_path,
                 "Kernel command line to read agent.aa_kbc_params and "
                 "cdh.kbs_resources from")
      ->capture_default_str();
  app.add_flag("-V,--version", show_version, "Print the version and exit");
  CLI11_PARSE(app, argc, argv);
  if (show_version) {
    std::cout << "confidential-data-hub " << kVersion << " (cdh, C++)\n"
              << "kbs: enabled\nkms plugins: kbs\n";
    return 0;
  }

  auto console = spdlog::stderr_color_mt("cdh");
  spdlog::set_default_logger(console);

  cdh::ConfigSources sources;
  sources.env = ReadEnvironment();
  if (auto cmdline = cdh::ReadFileBounded(cmdline_path, 64 << 10); cmdline.ok()) sources.kernel_cmdline = *cmdline;
  if (!config_path.empty()) {
    auto text = cdh::ReadFileBounded(config_path, kMaxConfigSize);
    if (!text.ok()) return Fail("cannot read config file", text.status());
    sources.file_path = config_path;
    sources.file_text = *text;
  }
  auto config = cdh::LoadConfig(sources, cdh::BuiltinPlugins());
  if (!config.ok()) return Fail("invalid configuration", config.status());
  spdlog::set_level(config->log_level);
  for (const std::string& w : config->warnings) spdlog::warn("{}", w);
  spdlog::info("confidential-data-hub {} starting: kbc={}{}{}", kVersion, config->kbc.name,
               config->kbc.url.has_value() ? " url=" : "", config->kbc.url.value_or(""));

  // Block the shutdown signals before any thread starts, so only sigwait below receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  // Refuse to start next to a live instance before doing anything with side effects (attesting,
  // rewriting credentials); a stale socket file is removed here.
  std::vector<cdh::UnixSocketAddress> sockets = {config->socket};
  if (config->grpc_socket.has_value()) sockets.push_back(*config->grpc_socket);
  for (const cdh::UnixSocketAddress& address : sockets) {
    if (auto s = cdh::PrepareSocketPath(address.path()); !s.ok()) return Fail("cannot use the socket", s);
  }
  auto hub = cdh::BuildHub(*config);
  if (!hub.ok()) return Fail("cannot initialise the hub", hub.status());
  if (auto s = cdh::FetchCredentials(*config, **hub, cdh::CallContext::WithTimeout(absl::Seconds(60))); !s.ok()) {
    return Fail("cannot fetch startup credentials", s);
  }

  cdh::ApiHandlers handlers(**hub);
  std::unique_ptr<cdh::GrpcServer> grpc_server;
  if (config->grpc_socket.has_value()) {
    auto server = cdh::StartGrpcServer(config->grpc_socket->path(), handlers);
    if (!server.ok()) return Fail("cannot serve gRPC", server.status());
    grpc_server = std::move(*server);
    spdlog::info("serving gRPC on {}", config->grpc_socket->uri());
  }
  // ttrpc on `socket`: the kata agent's transport (cdh-api.md §3.3), same handlers as gRPC.
  auto ttrpc = cdh::TtrpcServer::Start(config->socket.path(), handlers);
  if (!ttrpc.ok()) return Fail("cannot serve ttrpc", ttrpc.status());
  std::unique_ptr<cdh::TtrpcServer> ttrpc_server = std::move(*ttrpc);
  spdlog::info("serving ttrpc on {}", config->socket.uri());

  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("received signal {}, shutting down", sig);
  // Both transports drain at the same time, each for at most the grace period.
  std::thread grpc_stop([&] {
    if (grpc_server != nullptr) grpc_server->Shutdown(absl::Seconds(10));
  });
  ttrpc_server->Shutdown(absl::Seconds(10));
  grpc_stop.join();
  spdlog::info("stopped");
  return 0;
}
