#include "ttrpc/connection.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "common/secret_bytes.h"

namespace cdh::ttrpc {
namespace {

// Bytes read per readiness event: enough for a typical request in one go, small enough that
// one busy connection does not starve the others.
constexpr size_t kReadChunk = 64 * 1024;

}  // namespace

absl::Status WriteAll(int fd, std::string_view bytes, absl::Time deadline) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) return absl::DeadlineExceededError("ttrpc peer does not read");
      pollfd p{fd, POLLOUT, 0};
      int ms = left == absl::InfiniteDuration() ? -1 : static_cast<int>(absl::ToInt64Milliseconds(left)) + 1;
      int r = ::poll(&p, 1, ms);
      if (r < 0 && errno != EINTR) return absl::UnavailableError("ttrpc poll failed");
      continue;
    }
    return absl::UnavailableError("ttrpc peer closed the connection");
  }
  return absl::OkStatus();
}

Connection::Connection(int fd) : fd_(fd) {
  int flags = ::fcntl(fd_, F_GETFL, 0);
  if (flags >= 0) ::fcntl(fd_, F_SETFL, flags | O_NONBLOCK);
}

Connection::~Connection() { ::close(fd_); }

Connection::ReadResult Connection::ReadAvailable() {
  char buf[kReadChunk];
  for (;;) {
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n > 0) {
      decoder_.Append(std::string_view(buf, static_cast<size_t>(n)));
      return ReadResult::kOk;
    }
    if (n == 0) return ReadResult::kClosed;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return ReadResult::kWouldBlock;
    return ReadResult::kClosed;
  }
}

absl::Status Connection::WriteFrame(uint32_t stream_id, MessageType type, std::string_view data,
                                    absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  // Response frames carry plaintexts: the frame is built in a SecretBytes, wiped when freed.
  SecretBytes frame;
  frame.reserve(kFrameHeaderSize + data.size());
  frame.Append(EncodeHeader(FrameHeader{static_cast<uint32_t>(data.size()), stream_id, static_cast<uint8_t>(type), 0}));
  frame.Append(data);
  absl::Status status;
  {
    TimedTurnLock turn(&write_turn_, deadline);
    status = turn.acquired() ? WriteAll(fd_, frame.RevealString(), deadline)
                             : absl::DeadlineExceededError("ttrpc connection busy writing");
  }
  // A peer that does not take its answer is dropped so it cannot hold a writer forever; a
  // frame cut in half would also have left the stream out of sync.
  if (!status.ok()) Shutdown();
  return status;
}

void Connection::Shutdown() {
  ::shutdown(fd_, SHUT_RDWR);
  Depart();
}

void Connection::CallStarted() {
  absl::MutexLock lock(&mu_);
  ++calls_in_flight_;
}

void Connection::CallFinished() {
  absl::MutexLock lock(&mu_);
  --calls_in_flight_;
}

int Connection::calls_in_flight() const {
  absl::MutexLock lock(&mu_);
  return calls_in_flight_;
}

}  // namespace cdh::ttrpc
