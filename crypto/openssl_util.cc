#include "crypto/openssl_util.h"

#include <openssl/err.h>

#include "common/strings.h"

namespace cdh::crypto {

absl::Status OpenSslError(std::string_view what) {
  unsigned long err = ERR_get_error();
  char buf[256] = "unknown error";
  if (err != 0) ERR_error_string_n(err, buf, sizeof(buf));
  ERR_clear_error();
  return absl::InternalError(StrCat(what, ": ", buf));
}

void ClearOpenSslErrors() { ERR_clear_error(); }

}  // namespace cdh::crypto
