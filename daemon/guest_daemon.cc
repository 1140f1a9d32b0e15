#include "daemon/guest_daemon.h"

#include <thread>

#include <spdlog/spdlog.h>

#include "attestation/init_data.h"
#include "common/base64.h"
#include "common/file_util.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "daemon/aa_config.h"
#include "server/unix_socket.h"

namespace cdh {
namespace {

using nlohmann::json;

constexpr size_t kMaxConfigSize = 1 << 20;

json OptionalToJson(const std::optional<std::string>& v) { return v.has_value() ? json(*v) : json(nullptr); }

absl::StatusOr<std::optional<std::string>> OptionalFromJson(const json& request, const char* key) {
  auto it = request.find(key);
  if (it == request.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) return absl::InvalidArgumentError(StrCat("role request: `", key, "` must be a string"));
  return std::optional<std::string>(it->get<std::string>());
}

absl::StatusOr<std::string> StringFromJson(const json& request, const char* key) {
  CDH_ASSIGN_OR_RETURN(std::optional<std::string> v, OptionalFromJson(request, key));
  if (!v.has_value()) return absl::InvalidArgumentError(StrCat("role request: `", key, "` is required"));
  return *v;
}

// "host:port" or "[v6]:port" (upstream's SocketAddr syntax).
absl::StatusOr<std::pair<std::string, int>> ParseBind(std::string_view bind) {
  size_t colon = bind.rfind(':');
  if (colon == std::string_view::npos) return absl::InvalidArgumentError("bind address needs a port (host:port)");
  std::string_view host = bind.substr(0, colon);
  if (host.starts_with('[') && host.ends_with(']')) host = host.substr(1, host.size() - 2);
  std::string port_text(bind.substr(colon + 1));
  char* end = nullptr;
  long port = std::strtol(port_text.c_str(), &end, 10);
  if (port_text.empty() || *end != '\0' || port < 0 || port > 65535) {
    return absl::InvalidArgumentError(StrCat("bind address `", Sanitize(bind), "`: bad port"));
  }
  return std::pair{std::string(host), static_cast<int>(port)};
}

}  // namespace

json RoleRequestToJson(const AaRoleRequest& r) {
  return {{"role", kAaRole},
          {"socket", r.socket.uri()},
          {"grpc_address", OptionalToJson(r.grpc_address)},
          {"config", OptionalToJson(r.config_path)},
          {"initdata_toml", OptionalToJson(r.initdata_toml)},
          {"initdata_digest", OptionalToJson(r.initdata_digest)}};
}

json RoleRequestToJson(const CdhRoleRequest& r) {
  return {{"role", kCdhRole},
          {"config", OptionalToJson(r.config_path)},
          {"kernel_cmdline", r.kernel_cmdline_path},
          {"env", r.env}};
}

json RoleRequestToJson(const RestRoleRequest& r) {
  return {{"role", kRestRole}, {"bind", r.bind}, {"features", r.features}};
}

absl::Status GuestDaemon::AddRole(const json& request) {
  if (!request.is_object()) return absl::InvalidArgumentError("role request must be a JSON object");
  CDH_ASSIGN_OR_RETURN(std::string role, StringFromJson(request, "role"));
  if (role == kAaRole) {
    AaRoleRequest r;
    CDH_ASSIGN_OR_RETURN(std::string socket, StringFromJson(request, "socket"));
    CDH_ASSIGN_OR_RETURN(r.socket, UnixSocketAddress::Parse(socket));
    CDH_ASSIGN_OR_RETURN(r.grpc_address, OptionalFromJson(request, "grpc_address"));
    if (r.grpc_address.has_value()) CDH_RETURN_IF_ERROR(ParseBind(*r.grpc_address).status());
    CDH_ASSIGN_OR_RETURN(r.config_path, OptionalFromJson(request, "config"));
    CDH_ASSIGN_OR_RETURN(r.initdata_toml, OptionalFromJson(request, "initdata_toml"));
    CDH_ASSIGN_OR_RETURN(r.initdata_digest, OptionalFromJson(request, "initdata_digest"));
    return AddAttestationAgent(r);
  }
  if (role == kCdhRole) {
    CdhRoleRequest r;
    CDH_ASSIGN_OR_RETURN(r.config_path, OptionalFromJson(request, "config"));
    CDH_ASSIGN_OR_RETURN(r.kernel_cmdline_path, StringFromJson(request, "kernel_cmdline"));
    if (auto env = request.find("env"); env != request.end() && env->is_object()) {
      for (auto it = env->begin(); it != env->end(); ++it) {
        if (it->is_string()) r.env[it.key()] = it->get<std::string>();
      }
    }
    return AddDataHub(r);
  }
  if (role == kRestRole) {
    RestRoleRequest r;
    CDH_ASSIGN_OR_RETURN(r.bind, StringFromJson(request, "bind"));
    CDH_ASSIGN_OR_RETURN(r.features, StringFromJson(request, "features"));
    return AddRestFront(r);
  }
  return absl::InvalidArgumentError(StrCat("unknown role `", Sanitize(role), "`"));
}

absl::Status GuestDaemon::AddAttestationAgent(const AaRoleRequest& request) {
  absl::MutexLock roles(&roles_mu_);
  if (aa_handlers_ != nullptr) {
    return absl::FailedPreconditionError("this daemon already serves the attestation agent");
  }
  AaConfig config;
  if (request.config_path.has_value()) {
    CDH_ASSIGN_OR_RETURN(std::string text, ReadFileBounded(*request.config_path, kMaxConfigSize));
    CDH_ASSIGN_OR_RETURN(config, ParseAaConfig(*request.config_path, text));
  }
  for (const std::string& w : config.warnings) spdlog::warn("attestation-agent: {}", w);
  // Refuse next to a live agent before attesting (a stale socket file is removed).
  if (!request.grpc_address.has_value()) CDH_RETURN_IF_ERROR(PrepareSocketPath(request.socket.path()));

  // The init data the kata agent hands over (attesters.md §5.3): the TOML wins over a digest, as
  // upstream; either is bound before anything is served, and a mismatch stops the role.
  config.attestation.init_data_path = request.initdata_toml.value_or("");
  CDH_ASSIGN_OR_RETURN(attestation::AttesterChoice choice, ChooseConfiguredAttester(config.attestation));
  spdlog::info("attestation-agent: TEE `{}`, {}", choice.attester->tee(), choice.how);
  std::optional<std::string> digest;
  if (request.initdata_toml.has_value()) {
    CDH_ASSIGN_OR_RETURN(std::optional<attestation::InitData> init, attestation::LoadInitData(*request.initdata_toml));
    if (!init.has_value()) {
      return absl::InvalidArgumentError(StrCat("init data ", *request.initdata_toml, " does not exist"));
    }
    digest = init->digest;
  } else if (request.initdata_digest.has_value()) {
    CDH_ASSIGN_OR_RETURN(digest, Base64StdDecode(*request.initdata_digest));
  }

  AttestationAgentParts parts;
  parts.attester = std::move(choice.attester);
  parts.eventlog_enabled = config.eventlog_enabled;
  if (config.kbs_url.has_value()) {
    const AttestationConfig attestation = config.attestation;
    CDH_ASSIGN_OR_RETURN(parts.kbs_session, shared_.Session(*config.kbs_url, [&]() {
      return NewKbsSession(*config.kbs_url, config.kbs_cert, attestation);
    }));
  } else {
    spdlog::info("attestation-agent: no [token_configs.kbs] url; GetToken(\"kbs\") is not available");
  }
  if (config.eventlog_enabled) {
    parts.log =
        shared_.Log([&]() { return OpenMeasurementLog(config.attestation, config.eventlog_path, config.init_pcr); });
  }
  CDH_ASSIGN_OR_RETURN(std::unique_ptr<AttestationAgent> agent, AttestationAgent::New(std::move(parts)));
  if (digest.has_value()) {
    absl::Status bound = agent->BindInitData(*digest, CallContext::WithTimeout(absl::Seconds(60)));
    if (!bound.ok()) {
      return Annotate(bound,
                      "The initdata supplied by the parameter is inconsistent with that of the current platform");
    }
    spdlog::info("attestation-agent: init data checked");
  }
  auto handlers = std::make_unique<AaHandlers>(*agent);
  if (request.grpc_address.has_value()) {
    CDH_ASSIGN_OR_RETURN(aa_grpc_, StartAaGrpcServer(*request.grpc_address, *handlers));
    spdlog::info("attestation-agent: serving attestation_agent.AttestationAgentService (gRPC) on {}",
                 *request.grpc_address);
  } else {
    CDH_ASSIGN_OR_RETURN(aa_ttrpc_, TtrpcServer::Start(request.socket.path(), handlers->BuildMethodTable()));
    spdlog::info("attestation-agent: serving attestation_agent.AttestationAgentService (ttrpc) on {}",
                 request.socket.uri());
  }
  agent_ = std::move(agent);
  aa_handlers_ = std::move(handlers);
  absl::MutexLock lock(&mu_);
  aa_published_ = aa_handlers_.get();
  return absl::OkStatus();
}

absl::Status GuestDaemon::AddDataHub(const CdhRoleRequest& request) {
  absl::MutexLock roles(&roles_mu_);
  if (cdh_ttrpc_ != nullptr) {
    return absl::FailedPreconditionError("a data hub is already listening: this daemon already serves the data hub");
  }
  ConfigSources sources;
  sources.env = request.env;
  if (auto cmdline = ReadPseudoFile(request.kernel_cmdline_path, 64 << 10); cmdline.ok()) {
    sources.kernel_cmdline = *cmdline;
  }
  if (request.config_path.has_value()) {
    auto text = ReadFileBounded(*request.config_path, kMaxConfigSize);
    if (!text.ok()) return Annotate(text.status(), "cannot read config file");
    sources.file_path = *request.config_path;
    sources.file_text = *text;
  }
  auto config = LoadConfig(sources, BuiltinPlugins());
  if (!config.ok()) return Annotate(config.status(), "invalid configuration");
  spdlog::set_level(config->log_level);
  for (const std::string& w : config->warnings) spdlog::warn("{}", w);
  spdlog::info("confidential-data-hub: kbc={}{}{}", config->kbc.name, config->kbc.url.has_value() ? " url=" : "",
               config->kbc.url.value_or(""));

  // Refuse to start next to a live instance before doing anything with side effects (attesting,
  // rewriting credentials); a stale socket file is removed here.
  std::vector<UnixSocketAddress> sockets = {config->socket};
  if (config->grpc_socket.has_value()) sockets.push_back(*config->grpc_socket);
  for (const UnixSocketAddress& address : sockets) {
    if (auto s = PrepareSocketPath(address.path()); !s.ok()) return Annotate(s, "cannot use the socket");
  }
  auto hub = BuildHub(*config, &shared_);
  if (!hub.ok()) return Annotate(hub.status(), "cannot initialise the hub");
  if (auto s = FetchCredentials(*config, **hub, CallContext::WithTimeout(kCredentialsStartupBudget)); !s.ok()) {
    return Annotate(s, "cannot fetch startup credentials");
  }
  auto handlers = std::make_unique<ApiHandlers>(**hub);
  std::unique_ptr<GrpcServer> grpc;
  if (config->grpc_socket.has_value()) {
    auto server = StartGrpcServer(config->grpc_socket->path(), *handlers);
    if (!server.ok()) return Annotate(server.status(), "cannot serve gRPC");
    grpc = std::move(*server);
    spdlog::info("serving gRPC on {}", config->grpc_socket->uri());
  }
  // ttrpc on `socket`: the kata agent's transport (cdh-api.md §3.3), same handlers as gRPC.
  auto ttrpc = TtrpcServer::Start(config->socket.path(), *handlers);
  if (!ttrpc.ok()) return Annotate(ttrpc.status(), "cannot serve ttrpc");
  spdlog::info("serving ttrpc on {}", config->socket.uri());
  hub_ = std::move(*hub);
  cdh_handlers_ = std::move(handlers);
  grpc_ = std::move(grpc);
  cdh_ttrpc_ = std::move(*ttrpc);
  rest_policy_ = config->rest_policy;
  absl::MutexLock lock(&mu_);
  cdh_published_ = cdh_handlers_.get();
  return absl::OkStatus();
}

absl::Status GuestDaemon::AddRestFront(const RestRoleRequest& request) {
  absl::MutexLock roles(&roles_mu_);
  if (rest_ != nullptr) return absl::FailedPreconditionError("this daemon already serves the REST front");
  CDH_ASSIGN_OR_RETURN(auto bind, ParseBind(request.bind));
  RestFrontOptions options;
  options.host = bind.first;
  options.port = bind.second;
  options.features = request.features;
  if (rest_policy_.has_value()) {
    served_policy_ = std::make_unique<RestPolicy>(*rest_policy_);
    spdlog::info("api-server-rest: serving by the [rest_api] policy of the data hub's configuration");
  } else {
    spdlog::warn(
        "api-server-rest: no [rest_api] policy: every process that can reach {} may fetch every resource "
        "and token this guest can (upstream's behaviour); add a [rest_api] policy to the data hub's "
        "configuration (init data) to restrict it",
        request.bind);
  }
  CDH_ASSIGN_OR_RETURN(rest_, RestFront::Start(options, *this, served_policy_.get()));
  spdlog::info("api-server-rest: listening on http://{}:{} with features {}", options.host, rest_->port(),
               options.features);
  return absl::OkStatus();
}

void GuestDaemon::Shutdown(absl::Duration grace) {
  absl::MutexLock roles(&roles_mu_);
  {
    absl::MutexLock lock(&mu_);
    cdh_published_ = nullptr;
    aa_published_ = nullptr;
  }
  if (rest_ != nullptr) rest_->Shutdown();
  // The transports drain at the same time, each for at most the grace period.
  GrpcServer* grpc = grpc_.get();
  GrpcServer* aa_grpc = aa_grpc_.get();
  TtrpcServer* aa = aa_ttrpc_.get();
  std::thread grpc_stop([grpc, aa_grpc, grace] {
    if (grpc != nullptr) grpc->Shutdown(grace);
    if (aa_grpc != nullptr) aa_grpc->Shutdown(grace);
  });
  std::thread aa_stop([aa, grace] {
    if (aa != nullptr) aa->Shutdown(grace);
  });
  if (cdh_ttrpc_ != nullptr) cdh_ttrpc_->Shutdown(grace);
  grpc_stop.join();
  aa_stop.join();
}

ApiHandlers* GuestDaemon::cdh() {
  absl::MutexLock lock(&mu_);
  return cdh_published_;
}

AaHandlers* GuestDaemon::aa() {
  absl::MutexLock lock(&mu_);
  return aa_published_;
}

}  // namespace cdh
