#include "common/unix_socket_address.h"

#include "common/strings.h"

namespace cdh {

absl::StatusOr<UnixSocketAddress> UnixSocketAddress::Parse(std::string_view address) {
  constexpr std::string_view kScheme = "unix://";
  if (!address.starts_with(kScheme) || address.size() <= kScheme.size() || address[kScheme.size()] != '/') {
    return absl::InvalidArgumentError(
        StrCat("socket address must be `unix:///absolute/path.sock`, got `", Sanitize(address, 64), "`"));
  }
  std::string path(address.substr(kScheme.size()));
  if (path.size() > kMaxPathBytes) {
    return absl::InvalidArgumentError(StrCat("socket path is longer than ", kMaxPathBytes, " bytes"));
  }
  return UnixSocketAddress(std::move(path));
}

}  // namespace cdh
