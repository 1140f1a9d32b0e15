// UnixSocketAddress: a listen or connect address of the data hub's API, parsed once.
// Upstream's form (cdh-api.md §3.2, ttrpc-rust's address syntax) is "unix://" followed by an
// absolute path, e.g. "unix:///run/confidential-containers/cdh.sock"; "unix:/abs/path" is accepted
// too. The path must fit in sockaddr_un::sun_path (at most 107 bytes). The daemon's
// configuration and cdh-tool both parse addresses here, so they agree on every form.
//
// Copyable value type; thread-compatible.
#ifndef CDH_COMMON_UNIX_SOCKET_ADDRESS_H_
#define CDH_COMMON_UNIX_SOCKET_ADDRESS_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace cdh {

class UnixSocketAddress {
 public:
  // Longest socket path, in bytes (sizeof(sockaddr_un::sun_path) - 1 for the terminator).
  static constexpr size_t kMaxPathBytes = 107;

  // Parses "unix:///absolute/path" or "unix:/absolute/path". INVALID_ARGUMENT (the message
  // shows at most 64 characters of `address` and names the upstream form) for another scheme,
  // a relative path ("unix://relative/path", "unix:relative"), an empty path, or a path over
  // kMaxPathBytes.
  static absl::StatusOr<UnixSocketAddress> Parse(std::string_view address);

  // The filesystem path, e.g. "/run/confidential-containers/cdh.sock".
  const std::string& path() const { return path_; }
  // The address in upstream's form, "unix://" + path().
  std::string uri() const { return "unix://" + path_; }

  friend bool operator==(const UnixSocketAddress&, const UnixSocketAddress&) = default;

 private:
  explicit UnixSocketAddress(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

}  // namespace cdh

#endif  // CDH_COMMON_UNIX_SOCKET_ADDRESS_H_
