// RawConn: a unix-socket ttrpc peer that sends arbitrary bytes, for robustness tests that must
// send what a well-behaved client never would. Blocking; not thread-safe; move-only by
// unique_ptr.
#ifndef CDH_TESTS_TTRPC_RAW_CONN_H_
#define CDH_TESTS_TTRPC_RAW_CONN_H_

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "ttrpc/codec.h"
#include "ttrpc/frame.h"

namespace cdh::testing {

class RawConn {
 public:
  static std::unique_ptr<RawConn> Connect(const std::string& path) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      if (fd >= 0) ::close(fd);
      return nullptr;
    }
    return std::unique_ptr<RawConn>(new RawConn(fd));
  }
  ~RawConn() { Close(); }

  bool Send(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  bool SendRequest(uint32_t stream, std::string_view service, std::string_view method, std::string_view payload,
                   int64_t timeout_nano = 0) {
    return Send(ttrpc::EncodeFrame(stream, ttrpc::MessageType::kRequest, 0,
                                   ttrpc::EncodeRequest(service, method, payload, timeout_nano)));
  }

  struct Reply {
    uint32_t stream_id = 0;
    absl::Status status;
    std::string payload;
  };
  // The next response frame, waiting at most `timeout`; nullopt on EOF, timeout or junk.
  std::optional<Reply> ReadReply(absl::Duration timeout = absl::Seconds(20)) {
    absl::Time deadline = absl::Now() + timeout;
    for (;;) {
      if (auto f = decoder_.Next()) {
        auto r = ttrpc::DecodeResponse(f->data.RevealString());
        if (f->header.type != static_cast<uint8_t>(ttrpc::MessageType::kResponse) || !r.ok()) return std::nullopt;
        return Reply{f->header.stream_id, ttrpc::ToAbslStatus(*r), r->payload()};
      }
      absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1) <= 0) return std::nullopt;
      char buf[65536];
      ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) return std::nullopt;
      decoder_.Append(std::string_view(buf, static_cast<size_t>(n)));
    }
  }
  // Closes with a TCP-style reset where the kernel supports it for unix sockets (SO_LINGER 0);
  // otherwise a plain close.
  void Reset() {
    linger l{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    Close();
  }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  explicit RawConn(int fd) : fd_(fd) {}
  int fd_;
  ttrpc::FrameDecoder decoder_;
};

}  // namespace cdh::testing

#endif  // CDH_TESTS_TTRPC_RAW_CONN_H_
