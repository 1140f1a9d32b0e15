#include "http/cookie_jar.h"

#include <algorithm>
#include <charconv>

#include "common/strings.h"

namespace cdh::http {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// RFC 6265 §5.1.4 default-path.
std::string DefaultPath(std::string_view request_path) {
  if (request_path.empty() || request_path.front() != '/') return "/";
  size_t last = request_path.rfind('/');
  if (last == 0) return "/";
  return std::string(request_path.substr(0, last));
}

// RFC 6265bis §5.6 steps 6-7 (as libcurl): a name or value with a control character other than
// HTAB is refused. Such a cookie would otherwise go back in a Cookie header with a line break or
// NUL in it, which the HTTP client refuses: every later request of the session would fail.
bool HasControlCharacter(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && u != '\t') || u == 0x7f;
  });
}

}  // namespace

bool CookiePathMatches(std::string_view request_path, std::string_view cookie_path) {
  if (request_path == cookie_path) return true;
  if (!request_path.starts_with(cookie_path)) return false;
  return cookie_path.ends_with('/') || request_path[cookie_path.size()] == '/';
}

void CookieJar::Update(HttpResponse& response, std::string_view request_path) {
  for (auto& [header, line] : response.headers) {
    if (header != "set-cookie") continue;
    std::string_view text(line);
    size_t semi = text.find(';');
    std::string_view pair = text.substr(0, semi);
    size_t eq = pair.find('=');
    std::string_view name = eq == std::string_view::npos ? std::string_view() : Trim(pair.substr(0, eq));
    std::string_view value = name.empty() ? std::string_view() : Trim(pair.substr(eq + 1));
    if (!name.empty() && !HasControlCharacter(name) && !HasControlCharacter(value)) {
      std::string path = DefaultPath(request_path);
      bool remove = false;
      std::string_view attrs = semi == std::string_view::npos ? std::string_view() : text.substr(semi + 1);
      for (std::string_view attr : StrSplit(attrs, ';')) {
        size_t aeq = attr.find('=');
        std::string key = AsciiToLower(Trim(attr.substr(0, aeq)));
        std::string_view aval = aeq == std::string_view::npos ? std::string_view() : Trim(attr.substr(aeq + 1));
        if (key == "path") {
          // §5.2.4: a value that does not start with '/' means the default path.
          path = aval.starts_with('/') ? std::string(aval) : DefaultPath(request_path);
        } else if (key == "max-age") {
          long long seconds = 0;
          auto [ptr, ec] = std::from_chars(aval.data(), aval.data() + aval.size(), seconds);
          if (ec == std::errc() && ptr == aval.data() + aval.size() && seconds <= 0) remove = true;
        }
      }
      std::erase_if(cookies_, [&](const Cookie& c) { return c.name == name && c.path == path; });
      if (!remove) cookies_.push_back(Cookie{std::string(name), SecretBytes::FromString(value), std::move(path)});
    }
    SecretBytes::WipeForeign(line);
  }
}

SecretBytes CookieJar::HeaderFor(std::string_view path) const {
  std::vector<const Cookie*> applicable;
  for (const Cookie& c : cookies_) {
    if (CookiePathMatches(path, c.path)) applicable.push_back(&c);
  }
  // §5.4 step 2: longer paths first; otherwise in the order they were set (stable sort).
  std::stable_sort(applicable.begin(), applicable.end(),
                   [](const Cookie* a, const Cookie* b) { return a->path.size() > b->path.size(); });
  SecretBytes header;
  for (const Cookie* c : applicable) {
    if (!header.empty()) header.Append("; ");
    header.Append(c->name);
    header.push_back('=');
    header.Append(c->value.Reveal());
  }
  return header;
}

bool CookieJar::Has(std::string_view name) const {
  return std::any_of(cookies_.begin(), cookies_.end(), [&](const Cookie& c) { return c.name == name; });
}

}  // namespace cdh::http
