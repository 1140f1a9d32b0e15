#include "resources/resource_uri.h"

#include "common/strings.h"

namespace cdh::resources {
namespace {

// RFC 3986 pchar minus ':' and '@' (never meaningful in a resource path) plus '%'-escapes.
bool IsSegmentChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~' || c == '%' || c == '!' || c == '$' || c == '&' || c == '\'' || c == '(' || c == ')' ||
         c == '*' || c == '+' || c == ',' || c == ';' || c == '=';
}

bool IsQueryChar(char c) { return IsSegmentChar(c) || c == '/' || c == '?' || c == ':' || c == '@'; }

bool IsAuthorityChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == ':' || c == '[' || c == ']' || c == '_';
}

bool IsPluginChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

}  // namespace

bool ResourceUri::HasKbsScheme(std::string_view text) {
  if (text.starts_with("kbs://")) return true;
  if (!text.starts_with("kbs+")) return false;
  size_t sep = text.find("://");
  return sep != std::string_view::npos && sep > 4;
}

absl::StatusOr<ResourceUri> ResourceUri::Parse(std::string_view uri) {
  if (uri.size() > kMaxLength) {
    return absl::InvalidArgumentError(
        StrCat("resource URI is ", uri.size(), " bytes; at most ", kMaxLength, " are accepted"));
  }
  size_t sep = uri.find("://");
  if (sep == std::string_view::npos) {
    return absl::InvalidArgumentError("resource URI must start with `kbs://` or `kbs+<plugin>://`");
  }
  std::string_view scheme = uri.substr(0, sep);
  ResourceUri out;
  if (scheme == "kbs") {
    out.plugin_ = "resource";
  } else if (scheme.starts_with("kbs+")) {
    std::string_view plugin = scheme.substr(4);
    if (plugin.empty()) return absl::InvalidArgumentError("resource URI scheme `kbs+` names no plugin");
    for (char c : plugin) {
      if (!IsPluginChar(c)) {
        return absl::InvalidArgumentError("resource URI plugin name may only use a-z 0-9 - _ .");
      }
    }
    out.plugin_ = std::string(plugin);
  } else {
    return absl::InvalidArgumentError(
        StrCat("resource URI scheme must be `kbs` or `kbs+<plugin>`, got `", Sanitize(scheme, 16), "`"));
  }
  std::string_view rest = uri.substr(sep + 3);
  if (rest.find('#') != std::string_view::npos) {
    return absl::InvalidArgumentError("resource URI must not have a fragment (`#`)");
  }
  size_t q = rest.find('?');
  if (q != std::string_view::npos) {
    std::string_view query = rest.substr(q + 1);
    for (char c : query) {
      if (!IsQueryChar(c)) return absl::InvalidArgumentError("resource URI query has an invalid character");
    }
    out.query_ = std::string(query);
    rest = rest.substr(0, q);
  }
  size_t slash = rest.find('/');
  std::string_view authority = slash == std::string_view::npos ? rest : rest.substr(0, slash);
  for (char c : authority) {
    if (!IsAuthorityChar(c)) return absl::InvalidArgumentError("resource URI host has an invalid character");
  }
  out.authority_ = std::string(authority);
  if (slash == std::string_view::npos || slash + 1 >= rest.size()) {
    return absl::InvalidArgumentError("resource URI has no path (expected kbs:///<repository>/<type>/<tag>)");
  }
  std::string_view path = rest.substr(slash + 1);
  for (std::string_view seg : StrSplit(path, '/')) {
    if (seg.empty()) return absl::InvalidArgumentError("resource URI path has an empty segment");
    if (seg == "." || seg == "..") {
      return absl::InvalidArgumentError("resource URI path must not contain `.` or `..` segments");
    }
    for (char c : seg) {
      if (!IsSegmentChar(c)) return absl::InvalidArgumentError("resource URI path has an invalid character");
    }
    out.segments_.emplace_back(seg);
  }
  return out;
}

std::string ResourceUri::ResourcePath() const { return StrJoin(segments_, "/"); }

std::string ResourceUri::ToString() const {
  std::string s = plugin_ == "resource" ? "kbs://" : StrCat("kbs+", plugin_, "://");
  StrAppend(&s, authority_, "/", ResourcePath());
  if (query_.has_value()) StrAppend(&s, "?", *query_);
  return s;
}

}  // namespace cdh::resources
