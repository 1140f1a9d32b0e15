// The ttrpc server's connection state machine (ttrpc/server.h, ttrpc/connection.h) fed a
// hostile peer's bytes over a real socket pair: the real Server with its event loop, worker pool,
// per-connection and global call limits (set low here so the limits are reached), dispatch of
// odd/even streams, unknown services and methods, timeouts, oversize frames, truncated frames
// and a half-close. The handlers are trivial (echo, fail) and stand in for the daemon's:
// the state machine, not the services, is under test here.
//
// Input: a sequence of pieces, each either raw bytes or a well-formed request frame built from
// the input (stream id, message type, service and method from a small set, payload, timeout),
// so the fuzzer reaches dispatch without having to discover protobuf encoding first.
// Properties: the server answers and closes the connection after the half-close (no hang: 10 s
// without progress aborts), and everything it sends decodes as response frames.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <string>

#include <fuzzer/FuzzedDataProvider.h>

#include "absl/time/clock.h"
#include "fuzz/fuzz_util.h"
#include "ttrpc/codec.h"
#include "ttrpc/frame.h"
#include "ttrpc/server.h"
#include "ttrpc/service_registry.h"

namespace cdh::ttrpc {
namespace {

std::unique_ptr<Server> MakeServer() {
  ServiceRegistry registry;
  (void)registry.Register("fuzz.Echo", "Echo", [](std::string_view request, const CallContext&) {
    return absl::StatusOr<SecretBytes>(SecretBytes::FromString(request));
  });
  (void)registry.Register("fuzz.Echo", "Fail", [](std::string_view, const CallContext&) {
    return absl::StatusOr<SecretBytes>(absl::InvalidArgumentError("refused"));
  });
  ServerOptions options;
  options.worker_threads = 2;
  options.max_worker_threads = 4;
  options.max_in_flight_per_connection = 4;
  options.max_active_calls = 8;
  options.write_timeout = absl::Seconds(5);
  return std::move(Server::New(std::move(registry), options)).value();
}

std::string BuildInput(FuzzedDataProvider& in) {
  static const char* const kServices[] = {"fuzz.Echo", "fuzz.Missing", ""};
  static const char* const kMethods[] = {"Echo", "Fail", "Nope", ""};
  std::string out;
  while (in.remaining_bytes() > 0 && out.size() < (1 << 16)) {
    if (in.ConsumeBool()) {
      out += in.ConsumeRandomLengthString(64);
      continue;
    }
    const uint32_t stream_id = in.ConsumeIntegralInRange<uint32_t>(0, 16);
    const uint8_t type = in.ConsumeIntegralInRange<uint8_t>(0, 4);
    const uint8_t flags = in.ConsumeIntegralInRange<uint8_t>(0, 3) == 0 ? in.ConsumeIntegral<uint8_t>() : 0;
    const char* service = kServices[in.ConsumeIntegralInRange<size_t>(0, 2)];
    const char* method = kMethods[in.ConsumeIntegralInRange<size_t>(0, 3)];
    const int64_t timeout = in.ConsumeBool() ? 0 : in.ConsumeIntegralInRange<int64_t>(-1, 2'000'000);
    const std::string payload = in.ConsumeRandomLengthString(32);
    std::string data = EncodeRequest(service, method, payload, timeout);
    if (in.ConsumeIntegralInRange<uint8_t>(0, 7) == 0)
      data = data.substr(0, in.ConsumeIntegralInRange<size_t>(0, data.size()));
    out += EncodeFrame(stream_id, static_cast<MessageType>(type), flags, data);
  }
  return out;
}

}  // namespace
}  // namespace cdh::ttrpc

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cdh::ttrpc;  // NOLINT
  static std::unique_ptr<Server> server = MakeServer();
  FuzzedDataProvider in(data, size);
  const std::string request = BuildInput(in);

  int fds[2];
  FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
  FUZZ_CHECK(server->AddConnection(fds[1]).ok());
  const int fd = fds[0];
  FUZZ_CHECK(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == 0);

  size_t written = 0;
  bool write_closed = false;
  std::string replies;
  absl::Time last_progress = absl::Now();
  for (;;) {
    if (!write_closed && written == request.size()) {
      shutdown(fd, SHUT_WR);
      write_closed = true;
    }
    pollfd p{fd, static_cast<short>(POLLIN | (write_closed ? 0 : POLLOUT)), 0};
    const int n = poll(&p, 1, 1000);
    FUZZ_CHECK(n >= 0 || errno == EINTR);
    bool progress = false;
    if (!write_closed && (p.revents & POLLOUT)) {
      const ssize_t w = send(fd, request.data() + written, request.size() - written, MSG_NOSIGNAL);
      if (w > 0) {
        written += static_cast<size_t>(w);
        progress = true;
      } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
        write_closed = true;  // the server dropped us (e.g. an oversize or write timeout)
      }
    }
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      char buf[4096];
      const ssize_t r = read(fd, buf, sizeof buf);
      if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) break;
      if (r > 0) {
        replies.append(buf, static_cast<size_t>(r));
        progress = true;
      }
    }
    if (progress) last_progress = absl::Now();
    FUZZ_CHECK(absl::Now() - last_progress < absl::Seconds(10));
  }
  close(fd);

  FrameDecoder decoder;
  decoder.Append(replies);
  while (std::optional<Frame> frame = decoder.Next()) {
    FUZZ_CHECK(!frame->oversize);
    FUZZ_CHECK(frame->header.type == static_cast<uint8_t>(MessageType::kResponse));
    FUZZ_CHECK(DecodeResponse(frame->data.RevealString()).ok());
  }
  FUZZ_CHECK(decoder.AtFrameBoundary());
  return 0;
}
