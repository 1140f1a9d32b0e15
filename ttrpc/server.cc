#include "ttrpc/server.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <deque>
#include <list>
#include <map>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/secret_bytes.h"
#include "common/strings.h"
#include "spdlog/spdlog.h"
#include "ttrpc/connection.h"
#include "ttrpc/frame.h"

namespace cdh::ttrpc {
namespace {

// How long the event loop itself may spend writing one small reply (a protocol error or a
// timeout): long enough for any peer that reads, short enough that a peer that has stopped
// reading cannot stall the other connections.
constexpr absl::Duration kLoopWriteTimeout = absl::Milliseconds(200);
// Pause before retrying accept() after running out of descriptors, instead of spinning.
constexpr absl::Duration kAcceptBackoff = absl::Milliseconds(100);
// Connections accepted per loop iteration at most.
constexpr int kAcceptBatch = 64;
// A call that has waited this long in the queue with no worker free makes the pool grow: the
// workers are then stuck (on the broker, on a slow device), not merely busy.
constexpr absl::Duration kGrowPoolAfter = absl::Milliseconds(50);

RpcStatus DefaultStatusMapper(const absl::Status& s) {
  return RpcStatus{static_cast<int32_t>(s.code()), std::string(ToStd(s.message()))};
}

int PollTimeoutMs(absl::Time until) {
  if (until == absl::InfiniteFuture()) return -1;
  absl::Duration d = until - absl::Now();
  if (d <= absl::ZeroDuration()) return 0;
  return static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(d) + 1, 60'000));
}

// One request in flight: shared by the worker running it and the deadline timer.
class Call {
 public:
  std::shared_ptr<Connection> conn;
  uint32_t stream_id = 0;
  const Handler* handler = nullptr;
  std::string payload;
  CallContext ctx;
  absl::Time queued_at;
  // Entry in Impl::timers_ while the deadline is armed; both only touched with Impl::timers_mu_
  // held (an annotation cannot name another class's member).
  bool has_timer = false;
  std::multimap<absl::Time, std::shared_ptr<Call>>::iterator timer;

  // The right to answer: true for the first caller only (the handler's reply or the deadline).
  bool ClaimAnswer() { return !answered_.exchange(true); }
  bool answered() const { return answered_.load(); }

 private:
  std::atomic<bool> answered_{false};
};

}  // namespace

class Server::Impl {
 public:
  Impl(ServiceRegistry registry, ServerOptions options) : registry_(std::move(registry)), options_(std::move(options)) {
    if (!options_.status_mapper) options_.status_mapper = DefaultStatusMapper;
  }
  ~Impl() { Shutdown(absl::ZeroDuration()); }

  absl::Status Start() {
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd_ < 0) return absl::UnavailableError("ttrpc server: eventfd failed");
    // Workers are started on first use (HandleFrame), so an idle daemon has one thread here.
    loop_ = std::thread([this] { LoopMain(); });
    return absl::OkStatus();
  }

  absl::Status Listen(int fd) {
    {
      absl::MutexLock lock(&mu_);
      if (!shut_down_ && listen_fd_ < 0) {
        int flags = ::fcntl(fd, F_GETFL, 0);
        if (flags >= 0) ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
        listen_fd_ = fd;
        fd = -1;
      }
    }
    if (fd >= 0) {
      ::close(fd);
      return absl::FailedPreconditionError("ttrpc server already listening or shut down");
    }
    Wake();
    return absl::OkStatus();
  }

  absl::Status AddConnection(int fd) {
    {
      absl::MutexLock lock(&mu_);
      if (!shut_down_) {
        pending_adds_.push_back(std::make_shared<Connection>(fd));
        fd = -1;
      }
    }
    if (fd >= 0) {
      ::close(fd);
      return absl::FailedPreconditionError("ttrpc server shut down");
    }
    Wake();
    return absl::OkStatus();
  }

  void Shutdown(absl::Duration grace) {
    absl::Time deadline = absl::Now() + grace;
    {
      absl::MutexLock lock(&mu_);
      if (shut_down_) return;
      shut_down_ = true;
      draining_ = true;
    }
    Wake();
    {
      absl::MutexLock lock(&mu_);
      while (active_calls_ > 0 && absl::Now() < deadline) idle_cv_.WaitWithDeadline(&mu_, deadline);
      stop_loop_ = true;
    }
    Wake();
    if (loop_.joinable()) loop_.join();
    std::deque<std::shared_ptr<Call>> dropped;
    std::list<std::thread> workers;
    {
      absl::MutexLock lock(&mu_);
      stop_workers_ = true;
      dropped.swap(queue_);
      workers.swap(workers_);  // the loop, the only thread that starts workers, has ended
    }
    work_cv_.SignalAll();
    for (auto& w : workers) w.join();
    {
      absl::MutexLock lock(&timers_mu_);
      timers_.clear();
    }
    dropped.clear();
    if (wake_fd_ >= 0) ::close(wake_fd_);
    wake_fd_ = -1;
  }

  Stats GetStats() const {
    absl::MutexLock lock(&mu_);
    return Stats{connections_, active_calls_, live_workers_};
  }

 private:
  struct ConnState {
    std::shared_ptr<Connection> conn;
    bool eof = false;
  };

  void Wake() {
    uint64_t one = 1;
    if (wake_fd_ >= 0) (void)!::write(wake_fd_, &one, sizeof(one));
  }

  bool HasCapacity(const Connection& c) const {
    return c.calls_in_flight() < options_.max_in_flight_per_connection &&
           active_calls_snapshot_ < options_.max_active_calls;
  }

  void LoopMain() {
    std::map<int, ConnState> conns;
    int listen_fd = -1;
    absl::Time accept_paused_until = absl::InfinitePast();
    std::vector<pollfd> fds;
    for (;;) {
      bool draining;
      {
        absl::MutexLock lock(&mu_);
        if (stop_loop_) break;
        for (auto& c : pending_adds_) {
          int fd = c->fd();
          conns.emplace(fd, ConnState{std::move(c), false});
        }
        pending_adds_.clear();
        draining = draining_;
        if (listen_fd_ >= 0 && !draining) listen_fd = listen_fd_;
        if (draining && listen_fd_ >= 0) {
          // Refuse new clients at once rather than leave them in the backlog.
          ::close(listen_fd_);
          listen_fd_ = listen_fd = -1;
        }
        active_calls_snapshot_ = active_calls_;
      }

      // Requests already decoded but held back by the in-flight limits go first.
      if (!draining) {
        for (auto it = conns.begin(); it != conns.end();) {
          if (DispatchBuffered(it->second)) {
            it = conns.erase(it);
          } else {
            ++it;
          }
        }
      }
      SetConnectionCount(static_cast<int>(conns.size()));

      fds.clear();
      fds.push_back(pollfd{wake_fd_, POLLIN, 0});
      // At the connection limit new clients wait in the listen backlog (the kernel refuses
      // them once it is full) until a connection ends.
      absl::Time now = absl::Now();
      bool accept_paused = now < accept_paused_until;
      bool poll_listen = listen_fd >= 0 && !accept_paused && static_cast<int>(conns.size()) < options_.max_connections;
      fds.push_back(pollfd{poll_listen ? listen_fd : -1, POLLIN, 0});
      for (auto& [fd, st] : conns) {
        bool readable = !draining && !st.eof && HasCapacity(*st.conn);
        // A descriptor that is not read is still watched for the peer's hang-up (POLLHUP and
        // POLLERR are always reported); a hang-up removes it from the table, so it cannot spin.
        fds.push_back(pollfd{fd, static_cast<short>(readable ? POLLIN : 0), 0});
      }
      absl::Time wake_at = std::min(NextTimer(), GrowPool());
      // Only an accept pause needs a timed wake-up; a full table waits for a hang-up (a read).
      if (listen_fd >= 0 && accept_paused) wake_at = std::min(wake_at, accept_paused_until);
      int r = ::poll(fds.data(), fds.size(), PollTimeoutMs(wake_at));
      if (r < 0 && errno != EINTR) {
        spdlog::error("ttrpc server: poll failed (errno {})", errno);
        break;
      }
      if (fds[0].revents & POLLIN) {
        uint64_t v;
        (void)!::read(wake_fd_, &v, sizeof(v));
      }
      ExpireTimers();
      // fds[2..] follow the map order, so read before accepting adds to the map.
      size_t i = 2;
      for (auto it = conns.begin(); it != conns.end() && i < fds.size(); ++i) {
        bool remove = false;
        if (fds[i].revents & (POLLHUP | POLLERR)) {
          // The peer closed its end entirely (a half-close gives POLLIN and EOF only): nobody is
          // left to answer, so its calls are cancelled and what it sent last is not read.
          it->second.conn->Depart();
          remove = true;
        } else if (fds[i].revents != 0) {
          remove = OnReadable(it->second);
        }
        it = remove ? conns.erase(it) : std::next(it);
      }
      if (fds[1].fd >= 0 && (fds[1].revents & POLLIN)) {
        accept_paused_until = AcceptAll(listen_fd, conns);
      }
    }
    // Shutdown: no more reads or writes on any connection; calls still running fail to write.
    for (auto& [fd, st] : conns) st.conn->Shutdown();
    conns.clear();
    SetConnectionCount(0);
    absl::MutexLock lock(&mu_);
    for (auto& c : pending_adds_) c->Shutdown();
    pending_adds_.clear();
    if (listen_fd_ >= 0) ::close(listen_fd_);
    listen_fd_ = -1;
  }

  void SetConnectionCount(int n) {
    absl::MutexLock lock(&mu_);
    connections_ = n;
  }

  // Accepts pending connections, up to the connection limit and kAcceptBatch at a time (so the
  // reads of connections already open, including the hang-ups that free slots, are not starved
  // by a burst of connects). Returns when accepting may resume (now, or later after running
  // out of descriptors).
  absl::Time AcceptAll(int listen_fd, std::map<int, ConnState>& conns) {
    for (int i = 0; i < kAcceptBatch && static_cast<int>(conns.size()) < options_.max_connections; ++i) {
      int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
          spdlog::warn("ttrpc server: accept failed (errno {}), pausing", errno);
          return absl::Now() + kAcceptBackoff;
        }
        return absl::InfinitePast();  // EAGAIN or a transient error: wait for readiness again
      }
      if (static_cast<int>(conns.size()) + 1 == options_.max_connections) {
        spdlog::warn("ttrpc server: {} connections open; new clients wait until one ends", options_.max_connections);
      }
      conns.emplace(fd, ConnState{std::make_shared<Connection>(fd), false});
    }
    return absl::InfinitePast();
  }

  // Reads from a readable connection and dispatches what it can. True to forget the connection.
  bool OnReadable(ConnState& st) {
    Connection::ReadResult r = st.conn->ReadAvailable();
    if (r == Connection::ReadResult::kClosed) {
      st.eof = true;
      if (!st.conn->AtFrameBoundary()) spdlog::debug("ttrpc server: peer closed in the middle of a frame");
    }
    return DispatchBuffered(st);
  }

  // Dispatches decoded frames while the limits allow. True when the connection is finished
  // (EOF seen and nothing left to dispatch); calls in flight keep it alive until they answer.
  bool DispatchBuffered(ConnState& st) {
    while (HasCapacity(*st.conn)) {
      std::optional<Frame> frame = st.conn->NextFrame();
      if (!frame.has_value()) return st.eof;
      HandleFrame(st.conn, std::move(*frame));
    }
    return false;
  }

  void HandleFrame(const std::shared_ptr<Connection>& conn, Frame frame) {
    const FrameHeader& h = frame.header;
    if (h.type != static_cast<uint8_t>(MessageType::kRequest)) {
      // Go ttrpc ignores other types for forward compatibility; no CDH service streams.
      spdlog::debug("ttrpc server: ignoring message type {} on stream {}", h.type, h.stream_id);
      return;
    }
    if (frame.oversize) {
      AnswerNow(*conn, h.stream_id,
                absl::ResourceExhaustedError(
                    StrCat("message length ", h.length, " exceed maximum message size of ", kMaxDataLength)));
      return;
    }
    if (h.stream_id % 2 != 1) {
      AnswerNow(*conn, h.stream_id, absl::InvalidArgumentError("StreamID must be odd for client initiated streams"));
      return;
    }
    absl::StatusOr<::ttrpc::Request> request = DecodeRequest(frame.data.RevealString());
    if (!request.ok()) {
      AnswerNow(*conn, h.stream_id, request.status());
      return;
    }
    absl::StatusOr<const Handler*> handler = registry_.Find(request->service(), request->method());
    if (!handler.ok()) {
      AnswerNow(*conn, h.stream_id, handler.status());
      return;
    }
    auto call = std::make_shared<Call>();
    call->conn = conn;
    call->stream_id = h.stream_id;
    call->handler = *handler;
    call->payload = std::move(*request->mutable_payload());
    call->ctx.cancellation = conn->departure();
    if (request->timeout_nano() > 0) {
      call->ctx.deadline = absl::Now() + absl::Nanoseconds(request->timeout_nano());
      absl::MutexLock lock(&timers_mu_);
      call->timer = timers_.emplace(call->ctx.deadline, call);
      call->has_timer = true;
    }
    conn->CallStarted();
    {
      absl::MutexLock lock(&mu_);
      ++active_calls_;
      active_calls_snapshot_ = active_calls_;
      call->queued_at = absl::Now();
      queue_.push_back(call);
      if (StartWorkerIfNeededLocked()) {
        work_cv_.Signal();
        return;
      }
      // No worker exists and none could be started: the call is taken back and refused.
      queue_.pop_back();
    }
    Answer(*call, absl::UnavailableError("ttrpc server: no worker thread"), "", kLoopWriteTimeout);
    FinishCall(*call);
  }

  // Starts one more worker when the queue holds more calls than idle workers can take and the
  // pool is below worker_threads (growth beyond that is GrowPool's, for stuck calls only). False
  // only when no worker exists at all and none could be started (the system refused a thread);
  // with at least one worker the queue is served anyway.
  bool StartWorkerIfNeededLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (static_cast<int>(queue_.size()) <= idle_workers_ || live_workers_ >= options_.worker_threads) {
      return live_workers_ > 0;
    }
    SpawnWorkerLocked();
    return live_workers_ > 0;
  }

  // A protocol-level answer written by the loop itself.
  void AnswerNow(Connection& conn, uint32_t stream_id, const absl::Status& status) {
    SecretBytes data = EncodeResponse(options_.status_mapper(status), "");
    (void)conn.WriteFrame(stream_id, MessageType::kResponse, data.RevealString(), kLoopWriteTimeout);
  }

  // Answers `call` once: the first of {handler, deadline} wins; later answers are dropped.
  void Answer(Call& call, const absl::Status& status, std::string_view payload, absl::Duration timeout) {
    if (!call.ClaimAnswer()) return;
    SecretBytes data = EncodeResponse(options_.status_mapper(status), payload);
    if (data.size() > kMaxDataLength) {
      data = EncodeResponse(
          options_.status_mapper(absl::ResourceExhaustedError(
              StrCat("reply of ", data.size(), " bytes exceeds the ttrpc maximum message size of ", kMaxDataLength))),
          "");
    }
    (void)call.conn->WriteFrame(call.stream_id, MessageType::kResponse, data.RevealString(), timeout);
  }

  absl::Time NextTimer() {
    absl::MutexLock lock(&timers_mu_);
    return timers_.empty() ? absl::InfiniteFuture() : timers_.begin()->first;
  }

  void ExpireTimers() {
    std::vector<std::shared_ptr<Call>> expired;
    {
      absl::Time now = absl::Now();
      absl::MutexLock lock(&timers_mu_);
      while (!timers_.empty() && timers_.begin()->first <= now) {
        expired.push_back(std::move(timers_.begin()->second));
        expired.back()->has_timer = false;
        timers_.erase(timers_.begin());
      }
    }
    for (auto& call : expired) Answer(*call, absl::DeadlineExceededError("timeout"), "", kLoopWriteTimeout);
  }

  // Starts one more worker. The new one counts as idle until it first waits, so the loop does
  // not start another for the same queued call.
  void SpawnWorkerLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    // Join the extra workers that have exited since (they only return after leaving mu_).
    for (auto it = workers_.begin(); it != workers_.end();) {
      if (std::find(exited_.begin(), exited_.end(), it->get_id()) != exited_.end()) {
        it->join();
        it = workers_.erase(it);
      } else {
        ++it;
      }
    }
    exited_.clear();
    try {
      workers_.emplace_back([this] { WorkerMain(); });
    } catch (const std::system_error& e) {
      spdlog::error("ttrpc server: cannot start a worker thread ({}); {} running", e.what(), live_workers_);
      return;
    }
    ++live_workers_;
    ++idle_workers_;
  }

  // The pool grows by one worker per queued call that has waited kGrowPoolAfter with every
  // worker busy, up to max_worker_threads: calls stuck on the broker then cannot starve calls
  // that need nothing but the CPU. Returns when to look again.
  absl::Time GrowPool() {
    absl::MutexLock lock(&mu_);
    // Calls no idle worker will take: only these can wait for a worker to come free.
    size_t uncovered = queue_.size() > static_cast<size_t>(idle_workers_) ? queue_.size() - idle_workers_ : 0;
    if (uncovered == 0 || live_workers_ >= options_.max_worker_threads) return absl::InfiniteFuture();
    absl::Time now = absl::Now();
    size_t waiting_long = 0;
    for (const auto& call : queue_) {
      if (now - call->queued_at < kGrowPoolAfter) break;
      ++waiting_long;
    }
    size_t spawn = std::min(waiting_long, uncovered);
    for (size_t i = 0; i < spawn && live_workers_ < options_.max_worker_threads; ++i) SpawnWorkerLocked();
    if (spawn > 0) spdlog::debug("ttrpc server: every worker busy, {} workers now", live_workers_);
    // Look again when the oldest call still queued (if the new workers leave any) waits too long.
    return std::max(queue_.front()->queued_at, now) + kGrowPoolAfter;
  }

  void WorkerMain() {
    bool first = true;  // counted as idle by SpawnWorkerLocked
    for (;;) {
      std::shared_ptr<Call> call;
      {
        absl::MutexLock lock(&mu_);
        if (!first) ++idle_workers_;
        first = false;
        while (!stop_workers_ && queue_.empty()) {
          // Workers beyond the kept ones leave after worker_idle_timeout without work.
          bool extra = live_workers_ > options_.worker_threads;
          if (!extra) {
            work_cv_.Wait(&mu_);
          } else if (work_cv_.WaitWithTimeout(&mu_, options_.worker_idle_timeout) && queue_.empty() && !stop_workers_ &&
                     live_workers_ > options_.worker_threads) {
            --idle_workers_;
            --live_workers_;
            exited_.push_back(std::this_thread::get_id());
            return;
          }
        }
        --idle_workers_;
        if (stop_workers_) {
          --live_workers_;
          return;
        }
        call = std::move(queue_.front());
        queue_.pop_front();
      }
      RunCall(*call);
      FinishCall(*call);
    }
  }

  void RunCall(Call& call) {
    if (call.answered()) return;       // expired while queued
    if (call.ctx.Cancelled()) return;  // the peer left while the call was queued: nobody to answer
    if (call.ctx.Expired()) {
      Answer(call, absl::DeadlineExceededError("timeout"), "", options_.write_timeout);
      return;
    }
    absl::StatusOr<SecretBytes> reply = absl::InternalError("ttrpc handler failed");
    try {
      reply = (*call.handler)(call.payload, call.ctx);
    } catch (...) {
      // Handlers do not throw by contract (no exceptions across modules); this only keeps a
      // broken one from taking the daemon down.
      spdlog::error("ttrpc server: handler threw an exception");
      reply = absl::InternalError("ttrpc handler failed");
    }
    if (reply.ok()) {
      Answer(call, absl::OkStatus(), reply->RevealString(), options_.write_timeout);
    } else {
      Answer(call, reply.status(), "", options_.write_timeout);
    }
  }

  void FinishCall(Call& call) {
    {
      absl::MutexLock lock(&timers_mu_);
      if (call.has_timer) {
        timers_.erase(call.timer);
        call.has_timer = false;
      }
    }
    call.conn->CallFinished();
    {
      absl::MutexLock lock(&mu_);
      --active_calls_;
      idle_cv_.SignalAll();
    }
    Wake();  // the loop may resume reading a connection held back by the limits
  }

  ServiceRegistry registry_;
  ServerOptions options_;
  int wake_fd_ = -1;
  std::thread loop_;

  mutable absl::Mutex mu_;
  absl::CondVar work_cv_;  // queue_ gained a call, or stop_workers_
  absl::CondVar idle_cv_;  // active_calls_ went down
  std::deque<std::shared_ptr<Call>> queue_ ABSL_GUARDED_BY(mu_);
  // Started on demand by the loop thread (worker_threads on first use, more while calls are
  // stuck, up to max_worker_threads); extra ones exit when idle and are joined later.
  std::list<std::thread> workers_ ABSL_GUARDED_BY(mu_);       // started, not yet joined
  std::vector<std::thread::id> exited_ ABSL_GUARDED_BY(mu_);  // returned, to be joined
  int live_workers_ ABSL_GUARDED_BY(mu_) = 0;
  int idle_workers_ ABSL_GUARDED_BY(mu_) = 0;  // waiting for work (or starting)
  std::vector<std::shared_ptr<Connection>> pending_adds_ ABSL_GUARDED_BY(mu_);
  int listen_fd_ ABSL_GUARDED_BY(mu_) = -1;
  int active_calls_ ABSL_GUARDED_BY(mu_) = 0;
  int connections_ ABSL_GUARDED_BY(mu_) = 0;
  bool draining_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_loop_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_workers_ ABSL_GUARDED_BY(mu_) = false;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  // The event loop's copy of active_calls_, written by the loop thread only (with mu_ held) and
  // read by it without the lock (HasCapacity).
  int active_calls_snapshot_ = 0;

  absl::Mutex timers_mu_;
  std::multimap<absl::Time, std::shared_ptr<Call>> timers_ ABSL_GUARDED_BY(timers_mu_);
};

absl::StatusOr<std::unique_ptr<Server>> Server::New(ServiceRegistry registry, ServerOptions options) {
  if (options.worker_threads <= 0 || options.max_worker_threads < options.worker_threads ||
      options.max_connections <= 0 || options.max_in_flight_per_connection <= 0 || options.max_active_calls <= 0 ||
      options.write_timeout <= absl::ZeroDuration() || options.worker_idle_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("ttrpc server limits must be positive");
  }
  auto impl = std::make_unique<Impl>(std::move(registry), std::move(options));
  absl::Status s = impl->Start();
  if (!s.ok()) return s;
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() { impl_->Shutdown(absl::ZeroDuration()); }
absl::Status Server::Listen(int listen_fd) { return impl_->Listen(listen_fd); }
absl::Status Server::AddConnection(int fd) { return impl_->AddConnection(fd); }
void Server::Shutdown(absl::Duration grace) { impl_->Shutdown(grace); }
Server::Stats Server::GetStats() const { return impl_->GetStats(); }

}  // namespace cdh::ttrpc
