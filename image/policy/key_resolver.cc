#include "image/policy/key_resolver.h"

#include "common/call_context.h"
#include "common/file_util.h"
#include "common/strings.h"
#include "resources/resource_uri.h"

namespace cdh::image {

absl::StatusOr<std::string> ResourceKeyResolver::ReadKey(std::string_view key_path, const CallContext& ctx) {
  if (resources::ResourceUri::HasKbsScheme(key_path)) {
    auto uri = resources::ResourceUri::Parse(key_path);
    if (!uri.ok()) return uri.status();
    auto bytes = provider_.GetResource(*uri, ctx);
    if (!bytes.ok()) return bytes.status();
    if (bytes->size() > kMaxKeySize) {
      return absl::InvalidArgumentError(StrCat("key ", uri->ToString(), " is larger than ", kMaxKeySize, " bytes"));
    }
    // A public key: leaving the zeroizing type is fine.
    return std::string(bytes->RevealString());
  }
  std::string_view path = key_path;
  if (path.starts_with("file://")) {
    path.remove_prefix(7);
  } else if (size_t scheme = path.find("://"); scheme != std::string_view::npos) {
    return absl::InvalidArgumentError(StrCat("key path scheme `", Sanitize(path.substr(0, scheme), 16),
                                             "` not supported (kbs://, file:// or a path)"));
  }
  if (path.empty() || path.front() != '/') {
    return absl::InvalidArgumentError(StrCat("key path `", Sanitize(key_path), "` must be absolute"));
  }
  return ReadFileBounded(std::string(path), kMaxKeySize);
}

}  // namespace cdh::image
