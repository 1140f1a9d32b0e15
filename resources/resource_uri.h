// ResourceUri: a KBS resource URI, parsed once (cdh-api.md §9.1).
//
//   kbs:///<repository>/<type>/<tag>[?query]          plugin "resource"
//   kbs://<host>[:port]/<repository>/<type>/<tag>     authority kept, never used to connect
//   kbs+<plugin>:///<segment>/...[?query]             plugin <plugin>
//
// Segments are non-empty, never "." or "..", and use only URL path characters; the number of
// segments is not restricted here (the broker's plugin decides), but there is at least one.
// Fragments are rejected. Copyable value type; thread-compatible.
#ifndef CDH_RESOURCES_RESOURCE_URI_H_
#define CDH_RESOURCES_RESOURCE_URI_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace cdh::resources {

class ResourceUri {
 public:
  // Longest URI accepted, in bytes: well above any repository/type/tag path, well below the
  // request-line limits of HTTP servers (a longer one would fail at the broker, 414, with the
  // reason lost behind the URI in the message).
  static constexpr size_t kMaxLength = 2048;

  // INVALID_ARGUMENT with a message naming what is wrong (length, scheme, empty plugin, empty or
  // dot segment, bad character, fragment). The message quotes at most the scheme, never the
  // whole input.
  static absl::StatusOr<ResourceUri> Parse(std::string_view uri);
  // True when `text` starts with "kbs://" or "kbs+<x>://" — it is meant as a resource URI
  // (used to tell a sealed-secret `kid` URI from a local key name, cdh-api.md §7.2 step 5).
  static bool HasKbsScheme(std::string_view text);

  // "host[:port]" from the URI, "" for kbs:///. Informational only: the configured broker is
  // always the one contacted.
  const std::string& authority() const { return authority_; }
  // "resource" for kbs://, else the name after "kbs+".
  const std::string& plugin() const { return plugin_; }
  const std::vector<std::string>& segments() const { return segments_; }
  // Segments joined with '/', e.g. "default/key/1" (the offline_fs_kbc lookup key, §9.4).
  std::string ResourcePath() const;
  const std::optional<std::string>& query() const { return query_; }
  // "kbs:///default/key/1?x=y" style, with the authority if one was given.
  std::string ToString() const;

 private:
  std::string authority_;
  std::string plugin_;
  std::vector<std::string> segments_;
  std::optional<std::string> query_;
};

}  // namespace cdh::resources

#endif  // CDH_RESOURCES_RESOURCE_URI_H_
