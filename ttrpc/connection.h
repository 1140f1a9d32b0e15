// Connection: one ttrpc socket as seen by the server, the layer between framing and dispatch
// (cdh-api.md §3.3). It owns the descriptor, turns readable bytes into frames through a
// FrameDecoder, and writes whole frames, one writer at a time, so responses to several
// in-flight streams never interleave.
//
// Thread-safety: ReadAvailable/NextFrame are for the one reader (the server's event loop);
// WriteFrame and Shutdown may be called from any thread. Neither copyable nor movable; shared
// (std::shared_ptr) between the event loop and the calls in flight on it, and the descriptor is
// closed when the last of them lets go, so a call can still answer after the peer half-closed.
#ifndef CDH_TTRPC_CONNECTION_H_
#define CDH_TTRPC_CONNECTION_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/cancellation.h"
#include "common/timed_turn.h"
#include "ttrpc/frame.h"

namespace cdh::ttrpc {

// Writes all of `bytes` to a (possibly non-blocking) stream socket, waiting for room at most
// until `deadline`. No SIGPIPE. UNAVAILABLE when the peer is gone, DEADLINE_EXCEEDED when it
// does not read in time.
absl::Status WriteAll(int fd, std::string_view bytes, absl::Time deadline);

class Connection {
 public:
  // Takes ownership of `fd`, a connected stream socket; makes it non-blocking.
  explicit Connection(int fd);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  int fd() const { return fd_; }

  enum class ReadResult { kOk, kWouldBlock, kClosed };
  // Reads what the socket has (up to one chunk) into the decoder. kClosed on EOF or error.
  ReadResult ReadAvailable();
  std::optional<Frame> NextFrame() { return decoder_.Next(); }
  // False when EOF came in the middle of a frame (the peer truncated it).
  bool AtFrameBoundary() const { return decoder_.AtFrameBoundary(); }

  // Writes one frame within `timeout` (waiting for the write lock counts). On failure the
  // connection is shut down, so the reader sees it closed. UNAVAILABLE, DEADLINE_EXCEEDED.
  absl::Status WriteFrame(uint32_t stream_id, MessageType type, std::string_view data, absl::Duration timeout);

  // Shuts the socket down in both directions; pending and later reads and writes fail. The
  // calls still running on it are cancelled (no answer can reach the peer any more).
  void Shutdown();

  // Fires when the peer has gone (it closed its end entirely, or the connection was shut down):
  // every call read from this connection carries it in its CallContext.
  const std::shared_ptr<Cancellation>& departure() const { return departure_; }
  void Depart() { departure_->Cancel(); }

  // Calls read from this connection and not finished yet (the server bounds them): one more
  // when a call is dispatched, one less when it has finished.
  void CallStarted() ABSL_LOCKS_EXCLUDED(mu_);
  void CallFinished() ABSL_LOCKS_EXCLUDED(mu_);
  int calls_in_flight() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  const int fd_;
  const std::shared_ptr<Cancellation> departure_ = std::make_shared<Cancellation>();
  FrameDecoder decoder_;  // the reader's own
  TimedTurn write_turn_;  // exclusive right to write one frame, taken within the write timeout
  mutable absl::Mutex mu_;
  int calls_in_flight_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace cdh::ttrpc

#endif  // CDH_TTRPC_CONNECTION_H_
