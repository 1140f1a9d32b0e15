// Server: the ttrpc server the kata agent talks to (cdh-api.md §3.3, §14; containerd/ttrpc
// PROTOCOL.md). Accepts connections on a listening unix socket, reads requests from all of them
// with one event-loop thread, runs handlers on a fixed pool of worker threads, and answers each
// request on its own stream, so several calls on one connection are in flight at once.
//
// Protocol behaviour (as upstream ttrpc; codes are google.rpc/absl codes):
//   - request frames (type 1) on odd stream ids are dispatched through the ServiceRegistry;
//   - a request on an even stream id (server-initiated range) -> INVALID_ARGUMENT on that stream;
//   - request data that is not a ttrpc.Request -> INVALID_ARGUMENT on that stream;
//   - any other message type is ignored (Go ttrpc does the same for forward compatibility);
//   - a request announcing more than kMaxDataLength bytes -> RESOURCE_EXHAUSTED on its stream at
//     once; its data is skipped as it arrives, so the connection stays in sync;
//   - a reply larger than kMaxDataLength -> RESOURCE_EXHAUSTED instead of the reply;
//   - timeout_nano > 0: the handler sees the deadline in CallContext, and if it has not answered
//     by then the caller gets DEADLINE_EXCEEDED "timeout" at the deadline (ttrpc-rust's text);
//   - unknown service / method: see ServiceRegistry.
// Every status, handler or protocol, goes through ServerOptions::status_mapper to the wire.
//
// Departed callers: when a peer closes its connection entirely (POLLHUP; a half-close still gets
// its answers) the connection's Cancellation fires, which every call read from it carries in its
// CallContext, so handlers waiting on others (the broker) give up at once.
//
// Resources are bounded: the event loop from the start; workers on first use, one more whenever a
// call is queued while none is idle, up to worker_threads, then kept: 1 + worker_threads threads
// while calls are answered promptly. When every worker is busy and a queued call has waited 50 ms
// (the workers are stuck, e.g. on a silent broker), the pool grows by a worker per such call, up
// to max_worker_threads, so calls that need no broker keep answering; workers beyond
// worker_threads exit after worker_idle_timeout without work. At most max_connections
// connections (further clients wait in the listen backlog until one ends); at most
// max_in_flight_per_connection unfinished calls per connection and max_active_calls in total,
// beyond which the server stops reading (TCP-style backpressure) instead of queueing.
//
// Thread-safe. Neither copyable nor movable.
#ifndef CDH_TTRPC_SERVER_H_
#define CDH_TTRPC_SERVER_H_

#include <functional>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ttrpc/codec.h"
#include "ttrpc/service_registry.h"

namespace cdh::ttrpc {

struct ServerOptions {
  int worker_threads = 8;        // kept
  int max_worker_threads = 256;  // while calls are stuck; >= worker_threads
  absl::Duration worker_idle_timeout = absl::Seconds(5);
  int max_connections = 256;
  // The kata agent has one connection: calls stuck on it must not hold back the others.
  int max_in_flight_per_connection = 128;
  int max_active_calls = 256;
  // How long a reply may wait for a peer that does not read before the connection is dropped.
  absl::Duration write_timeout = absl::Seconds(10);
  // absl::Status -> wire status. Default: the absl code number and message. The daemon passes
  // the one CDH mapping (server/status_mapping.h).
  std::function<RpcStatus(const absl::Status&)> status_mapper;
};

class Server {
 public:
  // INVALID_ARGUMENT for non-positive limits.
  static absl::StatusOr<std::unique_ptr<Server>> New(ServiceRegistry registry, ServerOptions options);
  // Shuts down with no grace period.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Starts accepting on `listen_fd` (a listening stream socket; the server owns it from now and
  // closes it at shutdown). FAILED_PRECONDITION if already listening or shut down.
  absl::Status Listen(int listen_fd);
  // Serves one already-connected stream socket (e.g. one end of a socketpair); takes ownership.
  // FAILED_PRECONDITION after shutdown (the descriptor is closed).
  absl::Status AddConnection(int fd);

  // Graceful shutdown: stops accepting and stops reading new requests at once, lets calls in
  // flight finish and answer for at most `grace`, then closes every connection and joins all
  // threads. Handlers still running after `grace` are waited for (they see their deadline in
  // CallContext) but their replies are dropped. Idempotent.
  void Shutdown(absl::Duration grace);

  struct Stats {
    int connections = 0;     // connections being read
    int active_calls = 0;    // calls dispatched and not finished
    int worker_threads = 0;  // workers running (<= ServerOptions::max_worker_threads)
  };
  Stats GetStats() const;

 private:
  class Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cdh::ttrpc

#endif  // CDH_TTRPC_SERVER_H_
