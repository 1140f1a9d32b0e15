#include "common/unix_socket_address.h"

#include "common/strings.h"

namespace cdh {

absl::StatusOr<UnixSocketAddress> UnixSocketAddress::Parse(std::string_view address) {
  constexpr std::string_view kScheme = "unix:";
  auto invalid = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        StrCat("socket address `", Sanitize(address, 64), "` ", why, "; use unix:///absolute/path.sock"));
  };
  if (!address.starts_with(kScheme)) return invalid("is not a unix: address");
  std::string_view rest = address.substr(kScheme.size());
  std::string path;
  if (rest.starts_with("//")) {
    // URI form: an empty authority must follow ("unix:///abs"); "unix://relative/x" would make
    // "relative" the authority, and ttrpc clients disagree on what that means.
    std::string_view after = rest.substr(2);
    if (after.empty()) return invalid("has no path");
    if (after.front() != '/') return invalid("names a relative path");
    path = std::string(after);
  } else if (rest.starts_with('/')) {
    path = std::string(rest);  // "unix:/abs", the form Go's net.Dial("unix", …) users write
  } else {
    return invalid(rest.empty() ? "has no path" : "names a relative path");
  }
  if (path.size() > kMaxPathBytes) {
    return absl::InvalidArgumentError(StrCat("socket path is longer than ", kMaxPathBytes, " bytes"));
  }
  return UnixSocketAddress(std::move(path));
}

}  // namespace cdh
