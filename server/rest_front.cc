#include "server/rest_front.h"

#include <httplib.h>

#include <thread>

#include <spdlog/spdlog.h>

#include "common/base64.h"
#include "common/json.h"
#include "common/strings.h"
#include "server/peer_process.h"

namespace cdh {
namespace {

namespace aa = ::attestation_agent;

// upstream api-server-rest's TTRPC_TIMEOUT: every forwarded call gets 50 s.
constexpr absl::Duration kCallTimeout = absl::Seconds(50);
constexpr char kOctetStream[] = "application/octet-stream";

void Text(httplib::Response& res, int status, std::string_view body) {
  res.status = status;
  res.set_content(std::string(body), "text/plain");
}

// Serves `bytes` without another copy of it in the response (httplib writes from our buffer).
void Stream(httplib::Response& res, SecretBytes bytes) {
  auto shared = std::make_shared<SecretBytes>(std::move(bytes));
  res.status = 200;
  res.set_content_provider(shared->size(), kOctetStream,
                           [shared](size_t offset, size_t length, httplib::DataSink& sink) {
                             std::string_view all = shared->RevealString();
                             return sink.write(all.data() + offset, std::min(length, all.size() - offset));
                           });
}

void HandlerError(httplib::Response& res, const absl::Status& status) { Text(res, 500, ToStd(status.message())); }

bool IsLoopback(const std::string& addr) {
  return addr.starts_with("127.") || addr == "::1" || addr.starts_with("::ffff:127.");
}

// The runtime_data query value as bytes (upstream utils.rs decode_runtime_data).
std::optional<std::string> RuntimeData(const httplib::Request& req) {
  std::string data = req.get_param_value("runtime_data");
  if (!req.has_param("encoding")) return data;
  if (req.get_param_value("encoding") != "base64") return std::nullopt;
  auto decoded = Base64UrlDecode(data);
  if (!decoded.ok()) return std::nullopt;
  return *decoded;
}

class Router {
 public:
  Router(const RestFrontOptions& options, RestBackends& backends, const RestPolicy* policy)
      : backends_(backends),
        policy_(policy),
        version_(options.version),
        features_(options.features),
        resource_(options.features == "resource" || options.features == "all"),
        attestation_(options.features == "attestation" || options.features == "all") {}

  void Route(const httplib::Request& req, httplib::Response& res) {
    if (!IsLoopback(req.remote_addr)) return Text(res, 403, "Forbidden");
    const std::string& path = req.path;
    if (path == "/info") return Info(req, res);
    if (path.starts_with("/aa/")) {
      AaHandlers* handlers = attestation_ ? backends_.aa() : nullptr;
      if (handlers == nullptr) return Text(res, 404, "Attestation Feature Not Enabled");
      return Aa(req, res, path.substr(4), *handlers);
    }
    if (path == "/aa") return Text(res, 404, "URL NOT FOUND");
    if (path.starts_with("/cdh/")) {
      ApiHandlers* handlers = resource_ ? backends_.cdh() : nullptr;
      if (handlers == nullptr) return Text(res, 404, "Resource Feature Not Enabled");
      constexpr std::string_view kResource = "/cdh/resource/";
      if (!path.starts_with(kResource)) return Text(res, 404, "URL NOT FOUND");
      return Resource(req, res, path.substr(kResource.size()), *handlers);
    }
    Text(res, 404, "URL NOT FOUND");
  }

 private:
  // True when the policy lets this caller use `route`; otherwise the 403 is written and logged.
  bool Allowed(const httplib::Request& req, httplib::Response& res, const std::string& route) {
    if (policy_ == nullptr) return true;
    std::optional<std::string> cgroup;
    if (policy_->NeedsCallerCgroup()) {
      auto inode = TcpSocketInode(req.remote_addr, req.remote_port, req.local_addr, req.local_port);
      auto pid = inode.ok() ? SocketOwner(*inode) : absl::StatusOr<pid_t>(inode.status());
      auto cg = pid.ok() ? ProcessCgroup(*pid) : absl::StatusOr<std::string>(pid.status());
      if (cg.ok()) {
        cgroup = *cg;
      } else {
        spdlog::warn(
            "rest: cannot identify the caller of {} ({}); cgroup-scoped deny rules apply to it, cgroup-scoped allow "
            "rules do not",
            Sanitize(route), ToStd(cg.status().message()));
      }
    }
    std::optional<std::string> rule = policy_->Refusal(route, cgroup);
    if (!rule.has_value()) return true;
    spdlog::warn("rest: {} refused by rule `{}` (caller cgroup {})", Sanitize(route, 256), Sanitize(*rule),
                 Sanitize(cgroup.value_or("unknown"), 256));
    Text(res, 403, StrCat("Forbidden by rule `", *rule, "`"));
    return false;
  }

  void Info(const httplib::Request& req, httplib::Response& res) {
    if (req.method != "GET") return Text(res, 405, "Method Not Allowed");
    nlohmann::json info = {{"version", version_}};
    if (AaHandlers* handlers = attestation_ ? backends_.aa() : nullptr) {
      auto tee = handlers->GetTeeType(aa::GetTeeTypeRequest(), CallContext::WithTimeout(kCallTimeout));
      if (tee.ok()) info["tee"] = tee->tee();
      auto more = handlers->GetAdditionalTees(aa::GetAdditionalTeesRequest(), CallContext::WithTimeout(kCallTimeout));
      if (more.ok() && more->additional_tees_size() > 0) {
        info["additional_tees"] =
            std::vector<std::string>(more->additional_tees().begin(), more->additional_tees().end());
      }
    }
    info["feature"] = features_;
    res.status = 200;
    res.set_content(DumpJson(info), "application/json");
  }

  void Aa(const httplib::Request& req, httplib::Response& res, std::string_view route, AaHandlers& handlers) {
    const CallContext ctx = CallContext::WithTimeout(kCallTimeout);
    if (route == "token" && req.method == "GET") {
      if (!req.has_param("token_type")) return Text(res, 400, "BAD REQUEST");
      if (!Allowed(req, res, "aa:token")) return;
      aa::GetTokenRequest r;
      r.set_tokentype(req.get_param_value("token_type"));
      auto out = handlers.GetToken(r, ctx);
      if (!out.ok()) return HandlerError(res, out.status());
      return Stream(res, SecretBytes::TakeString(*out->mutable_token()));
    }
    if ((route == "evidence" || route == "additional-evidence") && req.method == "GET") {
      if (!req.has_param("runtime_data")) return Text(res, 400, "BAD REQUEST");
      std::optional<std::string> data = RuntimeData(req);
      if (!data.has_value()) return Text(res, 400, "BAD REQUEST");
      if (!Allowed(req, res, StrCat("aa:", route))) return;
      absl::StatusOr<aa::GetEvidenceResponse> out;
      if (route == "evidence") {
        aa::GetEvidenceRequest r;
        r.set_runtimedata(*data);
        out = handlers.GetEvidence(r, ctx);
      } else {
        aa::GetAdditionalEvidenceRequest r;
        r.set_runtimedata(*data);
        out = handlers.GetAdditionalEvidence(r, ctx);
      }
      if (!out.ok()) return HandlerError(res, out.status());
      res.status = 200;
      res.set_content(out->evidence(), kOctetStream);
      return;
    }
    if (route == "aael" && req.method == "POST") {
      auto body = ParseJson(req.body, "AAEL entry");
      if (!body.ok() || !body->is_object()) return Text(res, 500, "Illegal AAEL entry format");
      std::string fields[3];
      const char* keys[3] = {"domain", "operation", "content"};
      for (int i = 0; i < 3; ++i) {
        auto it = body->find(keys[i]);
        if (it == body->end() || !it->is_string()) {
          return Text(res, 500, StrCat("Illegal AAEL entry format: missing string `", keys[i], "`"));
        }
        fields[i] = it->get<std::string>();
      }
      aa::ExtendRuntimeMeasurementRequest r;
      r.set_domain(fields[0]);
      r.set_operation(fields[1]);
      r.set_content(fields[2]);
      if (!Allowed(req, res, "aa:aael")) return;
      auto out = handlers.ExtendRuntimeMeasurement(r, ctx);
      if (!out.ok()) return HandlerError(res, out.status());
      const char* json = "{\"success\":\"true\"}";
      if (out->result() == aa::NOT_SUPPORTED) {
        json = "{\"success\":\"false\",\"message\": \"The platform does not support runtime measurement\"}";
      } else if (out->result() == aa::NOT_ENABLED) {
        json = "{\"success\":\"false\",\"message\": \"Attestation Agent does not enable eventlog recording\"}";
      }
      res.status = 200;
      res.set_content(json, "application/json");
      return;
    }
    Text(res, 404, "URL NOT FOUND");
  }

  void Resource(const httplib::Request& req, httplib::Response& res, std::string_view resource_path,
                ApiHandlers& handlers) {
    // The path has been percent-decoded once (by the HTTP server); a '%' left in it would be
    // decoded again by the broker, so the policy would judge one path and the broker serve
    // another (`signing%252Dkey` → `signing%2Dkey` here → `signing-key` at the broker).
    // Resource paths never need a '%': refuse it rather than guess which form is meant.
    if (resource_path.find('%') != std::string_view::npos) {
      spdlog::warn("rest: resource path with a percent-encoded character refused: {}", Sanitize(resource_path, 256));
      return Text(res, 400, "BAD REQUEST: percent-encoded characters in the resource path");
    }
    if (!Allowed(req, res, StrCat("resource:", resource_path))) return;
    api::GetResourceRequest r;
    r.set_resourcepath(StrCat("kbs:///", resource_path));
    auto out = handlers.GetResource(r, CallContext::WithTimeout(kCallTimeout));
    if (!out.ok()) return HandlerError(res, out.status());
    Stream(res, SecretBytes::TakeString(*out->mutable_resource()));
  }

  RestBackends& backends_;
  const RestPolicy* policy_;
  const std::string version_;
  const std::string features_;
  const bool resource_;
  const bool attestation_;
};

// The front on cpp-httplib: a server and the thread that runs its accept loop.
class HttplibRestFront : public RestFront {
 public:
  ~HttplibRestFront() override { Shutdown(); }
  int port() const override { return port_; }
  void Shutdown() override {
    if (server_ != nullptr) server_->stop();
    if (thread_.joinable()) thread_.join();
  }

  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<RestFront>> RestFront::Start(RestFrontOptions options, RestBackends& backends,
                                                            const RestPolicy* policy) {
  if (options.features != "resource" && options.features != "attestation" && options.features != "all") {
    return absl::InvalidArgumentError(
        StrCat("unknown features `", Sanitize(options.features), "`: supported are resource, attestation, all"));
  }
  in6_addr probe6{};
  in_addr probe4{};
  if (inet_pton(AF_INET, options.host.c_str(), &probe4) != 1 &&
      inet_pton(AF_INET6, options.host.c_str(), &probe6) != 1) {
    return absl::InvalidArgumentError(StrCat("bind address `", Sanitize(options.host), "` is not an IP address"));
  }
  auto front = std::make_unique<HttplibRestFront>();
  front->server_ = std::make_unique<httplib::Server>();
  httplib::Server& server = *front->server_;
  int threads = std::max(1, options.threads);
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  auto router = std::make_shared<Router>(options, backends, policy);
  auto handler = [router](const httplib::Request& req, httplib::Response& res) { router->Route(req, res); };
  server.Get(".*", handler);
  server.Post(".*", handler);
  server.Put(".*", handler);
  server.Delete(".*", handler);
  server.Patch(".*", handler);
  server.Options(".*", handler);
  if (options.port == 0) {
    front->port_ = server.bind_to_any_port(options.host);
    if (front->port_ <= 0) return absl::UnavailableError(StrCat("cannot bind ", options.host));
  } else {
    if (!server.bind_to_port(options.host, options.port)) {
      return absl::UnavailableError(StrCat("cannot bind ", options.host, ":", std::to_string(options.port)));
    }
    front->port_ = options.port;
  }
  front->thread_ = std::thread([&server] { server.listen_after_bind(); });
  return std::unique_ptr<RestFront>(std::move(front));
}

}  // namespace cdh
