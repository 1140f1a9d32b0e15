// String helpers over std::string_view.
//
// Why not absl's: Debian 12's abseil (20220623) is built with ABSL_OPTION_USE_STD_STRING_VIEW 0,
// so absl::string_view is a distinct type and absl::StrCat/StrSplit/StartsWith do not accept
// std::string_view. The project's API uses std::string_view; these helpers keep it that way.
// Thread-safe (pure functions).
#ifndef CDH_COMMON_STRINGS_H_
#define CDH_COMMON_STRINGS_H_

#include <concepts>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "absl/strings/string_view.h"

namespace cdh {
namespace strings_internal {

inline void Append(std::string& out, std::string_view s) { out.append(s); }
inline void Append(std::string& out, const char* s) { out.append(s); }
inline void Append(std::string& out, const std::string& s) { out.append(s); }
inline void Append(std::string& out, absl::string_view s) { out.append(s.data(), s.size()); }
inline void Append(std::string& out, char c) { out.push_back(c); }
template <typename T>
requires(std::integral<T> && !std::same_as<T, char> && !std::same_as<T, bool>) void Append(std::string& out, T v) {
  out.append(std::to_string(v));
}
inline void Append(std::string& out, bool b) { out.append(b ? "true" : "false"); }

}  // namespace strings_internal

// Concatenates strings, string views, characters and integers.
template <typename... Args>
std::string StrCat(const Args&... args) {
  std::string out;
  (strings_internal::Append(out, args), ...);
  return out;
}

template <typename... Args>
void StrAppend(std::string* out, const Args&... args) {
  (strings_internal::Append(*out, args), ...);
}

// Splits on every occurrence of `sep`; "" gives {""}; views point into `s`.
std::vector<std::string_view> StrSplit(std::string_view s, char sep);
std::string StrJoin(const std::vector<std::string>& parts, std::string_view sep);
std::string AsciiToLower(std::string_view s);
inline std::string_view ToStd(absl::string_view s) { return std::string_view(s.data(), s.size()); }

// Makes a value from untrusted input safe to put in an error message or a log line: control
// characters and bytes >= 0x7f are escaped (\n, \xNN) so nobody can forge log lines, and the
// result is cut at `max_chars` characters of input with "..." appended.
std::string Sanitize(std::string_view untrusted, size_t max_chars = 96);
// True when `s` has a control character (< 0x20 or 0x7f).
bool HasControlChars(std::string_view s);

}  // namespace cdh

#endif  // CDH_COMMON_STRINGS_H_
