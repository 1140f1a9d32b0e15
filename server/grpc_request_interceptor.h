// A gRPC server interceptor that gives an undecodable request the code ttrpc gives it.
//
// gRPC's generated services decode the request before our handler runs and, when the bytes are
// not a valid message, answer INTERNAL with an empty message: a caller's malformed request
// reported as our bug. ttrpc answers INVALID_ARGUMENT (ttrpc/, api_handlers.cc Decode), and
// docs/errors.md says a malformed request is INVALID_ARGUMENT on every transport. This
// interceptor notices the failed decode (no received message at POST_RECV_MESSAGE) and rewrites
// the status sent for that call only; every other status passes unchanged.
//
// Thread-safe: gRPC creates one interceptor per call. The factory is stateless.
#ifndef CDH_SERVER_GRPC_REQUEST_INTERCEPTOR_H_
#define CDH_SERVER_GRPC_REQUEST_INTERCEPTOR_H_

#include <memory>

#include <grpcpp/support/server_interceptor.h>

namespace cdh {

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> NewUndecodableRequestInterceptorFactory();

}  // namespace cdh

#endif  // CDH_SERVER_GRPC_REQUEST_INTERCEPTOR_H_
