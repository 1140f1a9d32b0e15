#include "ttrpc/client.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <optional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/strings.h"
#include "ttrpc/codec.h"
#include "ttrpc/frame.h"

namespace cdh::ttrpc {

class Client::Impl {
 public:
  explicit Impl(int fd) : fd_(fd) {
    reader_ = std::thread([this] { ReadLoop(); });
  }
  ~Impl() {
    ::shutdown(fd_, SHUT_RDWR);
    reader_.join();
    ::close(fd_);
  }

  absl::StatusOr<SecretBytes> Call(std::string_view service, std::string_view method, std::string_view payload,
                                   absl::Duration timeout) {
    int64_t timeout_nano = 0;
    absl::Time deadline = absl::InfiniteFuture();
    if (timeout != absl::InfiniteDuration() && timeout > absl::ZeroDuration()) {
      timeout_nano = absl::ToInt64Nanoseconds(timeout);
      deadline = absl::Now() + timeout;
    }
    std::string data = EncodeRequest(service, method, payload, timeout_nano);
    if (data.size() > kMaxDataLength) return absl::InvalidArgumentError("ttrpc request over the 4 MiB limit");
    auto pending = std::make_shared<Pending>();
    uint32_t id;
    {
      absl::MutexLock lock(&mu_);
      if (broken_) return absl::UnavailableError("ttrpc connection closed");
      id = next_stream_id_;
      next_stream_id_ += 2;
      pending_[id] = pending;
    }
    {
      // One writer at a time so frames never interleave; the socket is blocking. The reader
      // does not take this lock, so answers keep flowing while a large request is sent.
      absl::MutexLock lock(&write_mu_);
      std::string frame = EncodeFrame(id, MessageType::kRequest, 0, data);
      std::string_view rest = frame;
      while (!rest.empty()) {
        ssize_t n = ::send(fd_, rest.data(), rest.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
          absl::MutexLock state_lock(&mu_);
          pending_.erase(id);
          return absl::UnavailableError("ttrpc connection closed while sending");
        }
        rest.remove_prefix(static_cast<size_t>(n));
      }
    }
    // The server enforces the deadline and answers DEADLINE_EXCEEDED itself; wait a little
    // longer than that so its answer, not ours, is what the caller sees.
    absl::Time wait_until = deadline == absl::InfiniteFuture() ? deadline : deadline + kServerAnswerSlack;
    absl::MutexLock lock(&mu_);
    auto answered = [this, &pending]() {
      mu_.AssertReaderHeld();  // evaluated by absl::Mutex with mu_ held
      return pending->result.has_value();
    };
    if (!mu_.AwaitWithDeadline(absl::Condition(&answered), wait_until)) {
      pending_.erase(id);
      return absl::DeadlineExceededError("ttrpc call timed out");
    }
    return std::move(*pending->result);
  }

 private:
  struct Pending {
    // Set once by the reader; only touched with Impl::mu_ held (an annotation cannot name
    // another class's member).
    std::optional<absl::StatusOr<SecretBytes>> result;
  };

  void ReadLoop() {
    FrameDecoder decoder;
    char buf[64 * 1024];
    for (;;) {
      ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      decoder.Append(std::string_view(buf, static_cast<size_t>(n)));
      while (std::optional<Frame> frame = decoder.Next()) Deliver(*frame);
    }
    absl::MutexLock lock(&mu_);
    broken_ = true;
    for (auto& [id, p] : pending_) {
      p->result = absl::UnavailableError("ttrpc connection closed");
    }
    pending_.clear();
  }

  void Deliver(const Frame& frame) {
    if (frame.header.type != static_cast<uint8_t>(MessageType::kResponse)) return;
    absl::StatusOr<SecretBytes> result;
    if (frame.oversize) {
      result = absl::ResourceExhaustedError("ttrpc reply over the 4 MiB limit");
    } else if (absl::StatusOr<::ttrpc::Response> response = DecodeResponse(frame.data.RevealString()); !response.ok()) {
      result = response.status();
    } else if (absl::Status s = ToAbslStatus(*response); !s.ok()) {
      result = s;
    } else {
      result = SecretBytes::TakeString(*response->mutable_payload());  // wipes protobuf's copy
    }
    absl::MutexLock lock(&mu_);
    auto it = pending_.find(frame.header.stream_id);
    if (it == pending_.end()) return;  // the caller gave up waiting
    it->second->result = std::move(result);
    pending_.erase(it);
  }

  // How long past the deadline a call waits for the server's own DEADLINE_EXCEEDED answer.
  static constexpr absl::Duration kServerAnswerSlack = absl::Seconds(1);

  const int fd_;
  std::thread reader_;
  absl::Mutex write_mu_;  // one writer of request frames at a time
  absl::Mutex mu_;
  uint32_t next_stream_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::map<uint32_t, std::shared_ptr<Pending>> pending_ ABSL_GUARDED_BY(mu_);
  bool broken_ ABSL_GUARDED_BY(mu_) = false;
};

absl::StatusOr<std::unique_ptr<Client>> Client::Connect(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    return absl::InvalidArgumentError("unix socket path empty or too long");
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::UnavailableError("socket() failed");
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    int e = errno;
    ::close(fd);
    std::string message = StrCat("cannot connect to ", path, ": ", std::strerror(e));
    // Waiting cannot fix a socket this user may not open.
    if (e == EACCES || e == EPERM) return absl::PermissionDeniedError(message);
    return absl::UnavailableError(message);
  }
  return FromFd(fd);
}

std::unique_ptr<Client> Client::FromFd(int fd) {
  return std::unique_ptr<Client>(new Client(std::make_unique<Impl>(fd)));
}

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;

absl::StatusOr<SecretBytes> Client::Call(std::string_view service, std::string_view method, std::string_view payload,
                                         absl::Duration timeout) {
  return impl_->Call(service, method, payload, timeout);
}

}  // namespace cdh::ttrpc
