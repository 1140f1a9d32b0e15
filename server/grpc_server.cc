#include "server/grpc_server.h"

#include <sys/stat.h>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>

#include "common/status_macros.h"
#include "common/strings.h"
#include "proto/api.grpc.pb.h"
#include "proto/cdh_ext.grpc.pb.h"
#include "proto/keyprovider.grpc.pb.h"
#include "server/grpc_request_interceptor.h"
#include "server/status_mapping.h"
#include "server/unix_socket.h"

namespace cdh {
namespace {

CallContext ContextOf(const grpc::ServerContext* ctx) {
  auto deadline = ctx->deadline();
  if (deadline == std::chrono::system_clock::time_point::max()) return CallContext{};
  return CallContext{absl::FromChrono(deadline)};
}

template <typename Resp>
grpc::Status Reply(absl::StatusOr<Resp> result, Resp* out) {
  if (!result.ok()) return ToGrpcStatus(result.status());
  out->Swap(&*result);
  return grpc::Status::OK;
}

class SealedSecretService final : public api::SealedSecretService::Service {
 public:
  explicit SealedSecretService(ApiHandlers& h) : h_(h) {}
  grpc::Status UnsealSecret(grpc::ServerContext* c, const api::UnsealSecretInput* req,
                            api::UnsealSecretOutput* resp) override {
    return Reply(h_.UnsealSecret(*req, ContextOf(c)), resp);
  }

 private:
  ApiHandlers& h_;
};

class GetResourceService final : public api::GetResourceService::Service {
 public:
  explicit GetResourceService(ApiHandlers& h) : h_(h) {}
  grpc::Status GetResource(grpc::ServerContext* c, const api::GetResourceRequest* req,
                           api::GetResourceResponse* resp) override {
    return Reply(h_.GetResource(*req, ContextOf(c)), resp);
  }

 private:
  ApiHandlers& h_;
};

class SecureMountService final : public api::SecureMountService::Service {
 public:
  explicit SecureMountService(ApiHandlers& h) : h_(h) {}
  grpc::Status SecureMount(grpc::ServerContext* c, const api::SecureMountRequest* req,
                           api::SecureMountResponse* resp) override {
    return Reply(h_.SecureMount(*req, ContextOf(c)), resp);
  }

 private:
  ApiHandlers& h_;
};

class ImagePullService final : public api::ImagePullService::Service {
 public:
  explicit ImagePullService(ApiHandlers& h) : h_(h) {}
  grpc::Status PullImage(grpc::ServerContext* c, const api::ImagePullRequest* req,
                         api::ImagePullResponse* resp) override {
    return Reply(h_.PullImage(*req, ContextOf(c)), resp);
  }

 private:
  ApiHandlers& h_;
};

class KeyProviderService final : public keyprovider::KeyProviderService::Service {
 public:
  explicit KeyProviderService(ApiHandlers& h) : h_(h) {}
  grpc::Status UnWrapKey(grpc::ServerContext* c, const keyprovider::KeyProviderKeyWrapProtocolInput* req,
                         keyprovider::KeyProviderKeyWrapProtocolOutput* resp) override {
    return Reply(h_.UnWrapKey(*req, ContextOf(c)), resp);
  }
  grpc::Status WrapKey(grpc::ServerContext* c, const keyprovider::KeyProviderKeyWrapProtocolInput* req,
                       keyprovider::KeyProviderKeyWrapProtocolOutput* resp) override {
    return Reply(h_.WrapKey(*req, ContextOf(c)), resp);
  }

 private:
  ApiHandlers& h_;
};

class SecureMountExtService final : public ext::SecureMountExtService::Service {
 public:
  explicit SecureMountExtService(ApiHandlers& h) : h_(h) {}
  grpc::Status Unmount(grpc::ServerContext* c, const ext::UnmountRequest* req, ext::UnmountResponse* resp) override {
    return Reply(h_.Unmount(*req, ContextOf(c)), resp);
  }

 private:
  ApiHandlers& h_;
};

}  // namespace

struct GrpcServer::Impl {
  std::string socket_path;
  SealedSecretService sealed;
  GetResourceService resource;
  SecureMountService mount;
  SecureMountExtService mount_ext;
  ImagePullService image;
  KeyProviderService keyprovider;
  std::unique_ptr<grpc::Server> server;
  bool stopped = false;

  Impl(std::string path, ApiHandlers& h)
      : socket_path(std::move(path)), sealed(h), resource(h), mount(h), mount_ext(h), image(h), keyprovider(h) {}
};

GrpcServer::GrpcServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

GrpcServer::~GrpcServer() { Shutdown(absl::Seconds(5)); }

absl::StatusOr<std::unique_ptr<GrpcServer>> GrpcServer::Start(const std::string& socket_path, ApiHandlers& handlers) {
  CDH_RETURN_IF_ERROR(PrepareSocketPath(socket_path));
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  auto impl = std::make_unique<Impl>(socket_path, handlers);
  grpc::ServerBuilder builder;
  int bound_port = 0;
  builder.AddListeningPort(StrCat("unix:", socket_path), grpc::InsecureServerCredentials(), &bound_port);
  builder.RegisterService(&impl->sealed);
  builder.RegisterService(&impl->resource);
  builder.RegisterService(&impl->mount);
  builder.RegisterService(&impl->mount_ext);
  builder.RegisterService(&impl->image);
  builder.RegisterService(&impl->keyprovider);
  // The ttrpc limit (cdh-api.md §3.3) also bounds gRPC messages, so both transports agree.
  builder.SetMaxReceiveMessageSize(4 << 20);
  builder.SetMaxSendMessageSize(4 << 20);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(NewUndecodableRequestInterceptorFactory());
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  // Create the socket file owner-only from the start; chmod again below in case gRPC ignored it.
  mode_t old_umask = umask(0177);
  impl->server = builder.BuildAndStart();
  umask(old_umask);
  if (impl->server == nullptr || bound_port == 0) {
    return absl::UnavailableError(StrCat("gRPC could not listen on unix:", socket_path));
  }
  CDH_RETURN_IF_ERROR(RestrictSocketMode(socket_path));
  return std::unique_ptr<GrpcServer>(new GrpcServer(std::move(impl)));
}

void GrpcServer::Shutdown(absl::Duration grace) {
  if (impl_ == nullptr || impl_->stopped) return;
  impl_->stopped = true;
  impl_->server->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  impl_->server->Wait();
  RemoveSocketFile(impl_->socket_path);
}

}  // namespace cdh
