// Client: a ttrpc client over one unix-socket connection (cdh-api.md §3.3), for cdh-tool, the
// tests and the benchmark. Like the kata agent's client it multiplexes: any number of threads
// may call at once; each call gets the next odd stream id and its answer is matched by id.
//
// Thread-safe. Neither copyable nor movable. Destroying it fails calls still waiting with
// UNAVAILABLE.
#ifndef CDH_TTRPC_CLIENT_H_
#define CDH_TTRPC_CLIENT_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/secret_bytes.h"

namespace cdh::ttrpc {

class Client {
 public:
  // Connects to the unix socket at `path` (a filesystem path, no "unix://"). UNAVAILABLE when
  // nothing listens there (or no socket exists yet), PERMISSION_DENIED when this user may not
  // connect to it, INVALID_ARGUMENT when the path is too long for a socket address.
  static absl::StatusOr<std::unique_ptr<Client>> Connect(const std::string& path);
  // Uses an already-connected stream socket (takes ownership).
  static std::unique_ptr<Client> FromFd(int fd);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // One unary call. `payload` is the serialized request message; returns the serialized reply,
  // in the wiping type (replies carry plaintexts and resources).
  // A finite `timeout` is sent as timeout_nano (the server enforces it) and also bounds the
  // wait here. Codes: whatever status the server answered with; DEADLINE_EXCEEDED when no
  // answer came in time; UNAVAILABLE when the connection is or becomes unusable;
  // INVALID_ARGUMENT when the request is over the 4 MiB frame limit or the answer undecodable.
  absl::StatusOr<SecretBytes> Call(std::string_view service, std::string_view method, std::string_view payload,
                                   absl::Duration timeout = absl::InfiniteDuration());

 private:
  class Impl;
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cdh::ttrpc

#endif  // CDH_TTRPC_CLIENT_H_
