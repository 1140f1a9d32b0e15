#include "server/grpc_server.h"

#include <sys/stat.h>

#include <map>
#include <thread>
#include <type_traits>
#include <vector>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>

#include "absl/synchronization/mutex.h"
#include "common/cancellation.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "proto/api.grpc.pb.h"
#include "proto/attestation_agent.grpc.pb.h"
#include "proto/cdh_ext.grpc.pb.h"
#include "proto/keyprovider.grpc.pb.h"
#include "server/grpc_request_interceptor.h"
#include "server/status_mapping.h"
#include "server/unix_socket.h"

namespace cdh {
namespace {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  WireStatus wire = ToWireStatus(status);  // the one mapping, shared with ttrpc
  return grpc::Status(static_cast<grpc::StatusCode>(wire.code), wire.message);
}

// Watches the gRPC calls being handled for cancellation (the client gave up, its deadline
// passed or its connection went away). gRPC's synchronous API has no notification for that, only
// ServerContext::IsCancelled() (thread-safe), so one thread, started with the first call, polls
// the calls in flight every kPollInterval while there are any, and fires their Cancellation.
// Thread-safe; neither copyable nor movable.
class CancelWatcher {
 public:
  static constexpr absl::Duration kPollInterval = absl::Milliseconds(100);

  CancelWatcher() = default;
  CancelWatcher(const CancelWatcher&) = delete;
  CancelWatcher& operator=(const CancelWatcher&) = delete;
  ~CancelWatcher() {
    std::thread thread;
    {
      absl::MutexLock lock(&mu_);
      stop_ = true;
      thread.swap(thread_);
    }
    if (thread.joinable()) thread.join();
  }

  uint64_t Add(const grpc::ServerContext* call, std::shared_ptr<Cancellation> cancellation) {
    absl::MutexLock lock(&mu_);
    uint64_t id = next_id_++;
    calls_.emplace(id, Watched{call, std::move(cancellation)});
    if (!thread_.joinable()) thread_ = std::thread([this] { Run(); });
    return id;
  }
  void Remove(uint64_t id) {
    absl::MutexLock lock(&mu_);
    calls_.erase(id);
  }

 private:
  struct Watched {
    const grpc::ServerContext* call;
    std::shared_ptr<Cancellation> cancellation;
  };

  void Run() {
    for (;;) {
      std::vector<std::shared_ptr<Cancellation>> departed;
      {
        absl::MutexLock lock(&mu_);
        auto stop_or_work = [this]() {
          mu_.AssertReaderHeld();  // evaluated by absl::Mutex with mu_ held
          return stop_ || !calls_.empty();
        };
        mu_.Await(absl::Condition(&stop_or_work));
        auto stop = [this]() {
          mu_.AssertReaderHeld();
          return stop_;
        };
        if (mu_.AwaitWithTimeout(absl::Condition(&stop), kPollInterval)) return;
        for (auto it = calls_.begin(); it != calls_.end();) {
          if (it->second.call->IsCancelled()) {
            departed.push_back(std::move(it->second.cancellation));
            it = calls_.erase(it);
          } else {
            ++it;
          }
        }
      }
      // Outside mu_: cancellation callbacks take other locks (e.g. the KBS client's).
      for (auto& c : departed) c->Cancel();
    }
  }

  absl::Mutex mu_;
  std::map<uint64_t, Watched> calls_ ABSL_GUARDED_BY(mu_);
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 0;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_ ABSL_GUARDED_BY(mu_);
};

// One call's CallContext: its deadline, and a Cancellation the watcher fires when the call is
// cancelled, for as long as this object lives. Neither copyable nor movable.
class WatchedCall {
 public:
  WatchedCall(CancelWatcher& watcher, const grpc::ServerContext* call) : watcher_(watcher) {
    auto deadline = call->deadline();
    if (deadline != std::chrono::system_clock::time_point::max()) ctx_.deadline = absl::FromChrono(deadline);
    auto cancellation = std::make_shared<Cancellation>();
    ctx_.cancellation = cancellation;
    id_ = watcher_.Add(call, std::move(cancellation));
  }
  ~WatchedCall() { watcher_.Remove(id_); }
  WatchedCall(const WatchedCall&) = delete;
  WatchedCall& operator=(const WatchedCall&) = delete;
  const CallContext& ctx() const { return ctx_; }

 private:
  CancelWatcher& watcher_;
  CallContext ctx_;
  uint64_t id_ = 0;
};

template <typename Resp>
grpc::Status Reply(absl::StatusOr<Resp> result, Resp* out) {
  if (!result.ok()) return ToGrpcStatus(result.status());
  out->Swap(&*result);
  return grpc::Status::OK;
}

class SealedSecretService final : public api::SealedSecretService::Service {
 public:
  SealedSecretService(ApiHandlers& h, CancelWatcher& w) : h_(h), w_(w) {}
  grpc::Status UnsealSecret(grpc::ServerContext* c, const api::UnsealSecretInput* req,
                            api::UnsealSecretOutput* resp) override {
    WatchedCall call(w_, c);
    return Reply(h_.UnsealSecret(*req, call.ctx()), resp);
  }

 private:
  ApiHandlers& h_;
  CancelWatcher& w_;
};

class GetResourceService final : public api::GetResourceService::Service {
 public:
  GetResourceService(ApiHandlers& h, CancelWatcher& w) : h_(h), w_(w) {}
  grpc::Status GetResource(grpc::ServerContext* c, const api::GetResourceRequest* req,
                           api::GetResourceResponse* resp) override {
    WatchedCall call(w_, c);
    return Reply(h_.GetResource(*req, call.ctx()), resp);
  }

 private:
  ApiHandlers& h_;
  CancelWatcher& w_;
};

class SecureMountService final : public api::SecureMountService::Service {
 public:
  SecureMountService(ApiHandlers& h, CancelWatcher& w) : h_(h), w_(w) {}
  grpc::Status SecureMount(grpc::ServerContext* c, const api::SecureMountRequest* req,
                           api::SecureMountResponse* resp) override {
    WatchedCall call(w_, c);
    return Reply(h_.SecureMount(*req, call.ctx()), resp);
  }

 private:
  ApiHandlers& h_;
  CancelWatcher& w_;
};

class ImagePullService final : public api::ImagePullService::Service {
 public:
  ImagePullService(ApiHandlers& h, CancelWatcher& w) : h_(h), w_(w) {}
  grpc::Status PullImage(grpc::ServerContext* c, const api::ImagePullRequest* req,
                         api::ImagePullResponse* resp) override {
    WatchedCall call(w_, c);
    return Reply(h_.PullImage(*req, call.ctx()), resp);
  }

 private:
  ApiHandlers& h_;
  CancelWatcher& w_;
};

class KeyProviderService final : public keyprovider::KeyProviderService::Service {
 public:
  KeyProviderService(ApiHandlers& h, CancelWatcher& w) : h_(h), w_(w) {}
  grpc::Status UnWrapKey(grpc::ServerContext* c, const keyprovider::KeyProviderKeyWrapProtocolInput* req,
                         keyprovider::KeyProviderKeyWrapProtocolOutput* resp) override {
    WatchedCall call(w_, c);
    return Reply(h_.UnWrapKey(*req, call.ctx()), resp);
  }
  grpc::Status WrapKey(grpc::ServerContext* c, const keyprovider::KeyProviderKeyWrapProtocolInput* req,
                       keyprovider::KeyProviderKeyWrapProtocolOutput* resp) override {
    WatchedCall call(w_, c);
    return Reply(h_.WrapKey(*req, call.ctx()), resp);
  }

 private:
  ApiHandlers& h_;
  CancelWatcher& w_;
};

class SecureMountExtService final : public ext::SecureMountExtService::Service {
 public:
  SecureMountExtService(ApiHandlers& h, CancelWatcher& w) : h_(h), w_(w) {}
  grpc::Status Unmount(grpc::ServerContext* c, const ext::UnmountRequest* req, ext::UnmountResponse* resp) override {
    WatchedCall call(w_, c);
    return Reply(h_.Unmount(*req, call.ctx()), resp);
  }

 private:
  ApiHandlers& h_;
  CancelWatcher& w_;
};

// attestation_agent.AttestationAgentService, from the AaHandlers the ttrpc service uses.
class AttestationAgentService final : public attestation_agent::AttestationAgentService::Service {
 public:
  AttestationAgentService(AaHandlers& h, CancelWatcher& w) : h_(h), w_(w) {}
  grpc::Status GetEvidence(grpc::ServerContext* c, const attestation_agent::GetEvidenceRequest* req,
                           attestation_agent::GetEvidenceResponse* resp) override {
    WatchedCall call(w_, c);
    return Reply(h_.GetEvidence(*req, call.ctx()), resp);
  }
  grpc::Status GetAdditionalEvidence(grpc::ServerContext* c, const attestation_agent::GetAdditionalEvidenceRequest* req,
                                     attestation_agent::GetEvidenceResponse* resp) override {
    WatchedCall call(w_, c);
    return Reply(h_.GetAdditionalEvidence(*req, call.ctx()), resp);
  }
  grpc::Status GetToken(grpc::ServerContext* c, const attestation_agent::GetTokenRequest* req,
                        attestation_agent::GetTokenResponse* resp) override {
    WatchedCall call(w_, c);
    return Reply(h_.GetToken(*req, call.ctx()), resp);
  }
  grpc::Status ExtendRuntimeMeasurement(grpc::ServerContext* c,
                                        const attestation_agent::ExtendRuntimeMeasurementRequest* req,
                                        attestation_agent::ExtendRuntimeMeasurementResponse* resp) override {
    WatchedCall call(w_, c);
    return Reply(h_.ExtendRuntimeMeasurement(*req, call.ctx()), resp);
  }
  grpc::Status BindInitData(grpc::ServerContext* c, const attestation_agent::BindInitDataRequest* req,
                            attestation_agent::BindInitDataResponse* resp) override {
    WatchedCall call(w_, c);
    return Reply(h_.BindInitData(*req, call.ctx()), resp);
  }
  grpc::Status GetTeeType(grpc::ServerContext* c, const attestation_agent::GetTeeTypeRequest* req,
                          attestation_agent::GetTeeTypeResponse* resp) override {
    WatchedCall call(w_, c);
    return Reply(h_.GetTeeType(*req, call.ctx()), resp);
  }
  grpc::Status GetAdditionalTees(grpc::ServerContext* c, const attestation_agent::GetAdditionalTeesRequest* req,
                                 attestation_agent::GetAdditionalTeesResponse* resp) override {
    WatchedCall call(w_, c);
    return Reply(h_.GetAdditionalTees(*req, call.ctx()), resp);
  }

 private:
  AaHandlers& h_;
  CancelWatcher& w_;
};

// The message limits and interceptors both servers use.
void ConfigureBuilder(grpc::ServerBuilder& builder) {
  // The ttrpc limit (cdh-api.md §3.3) also bounds gRPC messages, so both transports agree.
  builder.SetMaxReceiveMessageSize(4 << 20);
  builder.SetMaxSendMessageSize(4 << 20);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(NewUndecodableRequestInterceptorFactory());
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
}

class GrpcServerImpl final : public GrpcServer {
 public:
  static absl::StatusOr<std::unique_ptr<GrpcServer>> Start(const std::string& socket_path, ApiHandlers& handlers);
  ~GrpcServerImpl() override { Shutdown(absl::Seconds(5)); }
  void Shutdown(absl::Duration grace) override;

 private:
  GrpcServerImpl(std::string path, ApiHandlers& h)
      : socket_path_(std::move(path)),
        sealed_(h, watcher_),
        resource_(h, watcher_),
        mount_(h, watcher_),
        mount_ext_(h, watcher_),
        image_(h, watcher_),
        keyprovider_(h, watcher_) {}

  std::string socket_path_;
  CancelWatcher watcher_;  // outlives the services (declared first, destroyed last)
  SealedSecretService sealed_;
  GetResourceService resource_;
  SecureMountService mount_;
  SecureMountExtService mount_ext_;
  ImagePullService image_;
  KeyProviderService keyprovider_;
  std::unique_ptr<grpc::Server> server_;
  bool stopped_ = false;
};

absl::StatusOr<std::unique_ptr<GrpcServer>> GrpcServerImpl::Start(const std::string& socket_path,
                                                                  ApiHandlers& handlers) {
  CDH_RETURN_IF_ERROR(PrepareSocketPath(socket_path));
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  std::unique_ptr<GrpcServerImpl> impl(new GrpcServerImpl(socket_path, handlers));
  grpc::ServerBuilder builder;
  int bound_port = 0;
  builder.AddListeningPort(StrCat("unix:", socket_path), grpc::InsecureServerCredentials(), &bound_port);
  builder.RegisterService(&impl->sealed_);
  builder.RegisterService(&impl->resource_);
  builder.RegisterService(&impl->mount_);
  builder.RegisterService(&impl->mount_ext_);
  builder.RegisterService(&impl->image_);
  builder.RegisterService(&impl->keyprovider_);
  ConfigureBuilder(builder);
  // Create the socket file owner-only from the start; chmod again below in case gRPC ignored it.
  mode_t old_umask = umask(0177);
  impl->server_ = builder.BuildAndStart();
  umask(old_umask);
  if (impl->server_ == nullptr || bound_port == 0) {
    impl->stopped_ = true;
    return absl::UnavailableError(StrCat("gRPC could not listen on unix:", socket_path));
  }
  CDH_RETURN_IF_ERROR(RestrictSocketMode(socket_path));
  return std::unique_ptr<GrpcServer>(std::move(impl));
}

void GrpcServerImpl::Shutdown(absl::Duration grace) {
  if (stopped_) return;
  stopped_ = true;
  server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  server_->Wait();
  RemoveSocketFile(socket_path_);
}

// The attestation agent on a TCP address (upstream grpc-aa's `--attestation_sock host:port`).
class AaGrpcServerImpl final : public GrpcServer {
 public:
  static absl::StatusOr<std::unique_ptr<GrpcServer>> Start(const std::string& address, AaHandlers& handlers) {
    grpc::reflection::InitProtoReflectionServerBuilderPlugin();
    std::unique_ptr<AaGrpcServerImpl> impl(new AaGrpcServerImpl(handlers));
    grpc::ServerBuilder builder;
    int bound_port = 0;
    // A second agent on a live port must fail to bind, not share it (gRPC sets SO_REUSEPORT by default).
    builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &bound_port);
    builder.RegisterService(&impl->service_);
    ConfigureBuilder(builder);
    impl->server_ = builder.BuildAndStart();
    if (impl->server_ == nullptr || bound_port == 0) {
      impl->stopped_ = true;
      return absl::UnavailableError(StrCat("gRPC could not listen on ", address));
    }
    return std::unique_ptr<GrpcServer>(std::move(impl));
  }
  ~AaGrpcServerImpl() override { Shutdown(absl::Seconds(5)); }
  void Shutdown(absl::Duration grace) override {
    if (stopped_) return;
    stopped_ = true;
    server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
    server_->Wait();
  }

 private:
  explicit AaGrpcServerImpl(AaHandlers& h) : service_(h, watcher_) {}
  CancelWatcher watcher_;  // outlives the service (declared first, destroyed last)
  AttestationAgentService service_;
  std::unique_ptr<grpc::Server> server_;
  bool stopped_ = false;
};

}  // namespace
}  // namespace cdh

// The module's entry point (server/grpc_server.h, kGrpcModuleEntry).
extern "C" __attribute__((visibility("default"))) void cdh_grpc_server_start(
    const std::string* socket_path, cdh::ApiHandlers* handlers, absl::StatusOr<std::unique_ptr<cdh::GrpcServer>>* out) {
  *out = cdh::GrpcServerImpl::Start(*socket_path, *handlers);
}
static_assert(std::is_same_v<decltype(&cdh_grpc_server_start), cdh::GrpcModuleEntry>);

extern "C" __attribute__((visibility("default"))) void cdh_grpc_aa_server_start(
    const std::string* address, cdh::AaHandlers* handlers, absl::StatusOr<std::unique_ptr<cdh::GrpcServer>>* out) {
  *out = cdh::AaGrpcServerImpl::Start(*address, *handlers);
}
static_assert(std::is_same_v<decltype(&cdh_grpc_aa_server_start), cdh::GrpcAaModuleEntry>);
