// CookieJar: the cookies one server set, kept and sent back as libcurl's cookie engine and
// browsers do (RFC 6265 §5.2 parsing, §5.3 storage, §5.4 the Cookie header), for the single
// origin a client talks to. A broker behind a load balancer may set several cookies with its
// session cookie (an affinity cookie beside Trustee's `kbs-session-id`); all of them go back.
//
// What is kept: every `name=value` of every Set-Cookie, a later one replacing an earlier one of
// the same name and path; `Path` (default: the directory of the request path, §5.1.4) and
// path-matching (§5.1.4). A cookie is removed when the server deletes it (`Max-Age` <= 0).
// A Set-Cookie whose name or value holds a control character other than HTAB is ignored
// (RFC 6265bis §5.6, as libcurl): it could not be sent back.
// Deviations, on purpose: `Expires` and a positive `Max-Age` are not enforced against the
// guest's clock (a guest clock may be skewed; the jar lives only as long as one broker session,
// which ends on 401 or at the token's expiry); `Domain` is ignored (one origin); `Secure` and
// `HttpOnly` are accepted and not enforced.
//
// Values are credentials: they live in SecretBytes, and the response's header copies are wiped
// when taken. Copyable only through Clone(); movable; not thread-safe (a session builds its jar
// once, then only reads it).
#ifndef CDH_HTTP_COOKIE_JAR_H_
#define CDH_HTTP_COOKIE_JAR_H_

#include <string>
#include <string_view>
#include <vector>

#include "common/secret_bytes.h"
#include "http/http_client.h"

namespace cdh::http {

class CookieJar {
 public:
  // Takes every `set-cookie` header of `response` (answer to a request for `request_path`, the
  // URL's path without the query) and wipes those header values in `response`. Malformed
  // Set-Cookie lines (no '=', empty name) are ignored, as RFC 6265 §5.2 says.
  void Update(HttpResponse& response, std::string_view request_path);

  // The Cookie header value for a request to `path` ("a=1; b=2", longer paths first as §5.4
  // recommends); empty when no cookie applies.
  SecretBytes HeaderFor(std::string_view path) const;

  // Whether a cookie named `name` is held (any path).
  bool Has(std::string_view name) const;
  size_t size() const { return cookies_.size(); }

 private:
  struct Cookie {
    std::string name;
    SecretBytes value;
    std::string path;
  };
  std::vector<Cookie> cookies_;
};

// RFC 6265 §5.1.4: whether `request_path` path-matches `cookie_path`.
bool CookiePathMatches(std::string_view request_path, std::string_view cookie_path);

}  // namespace cdh::http

#endif  // CDH_HTTP_COOKIE_JAR_H_
