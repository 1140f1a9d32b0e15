// X.509 helpers for configuration checks. Thread-safe (pure functions).
#ifndef CDH_CRYPTO_X509_H_
#define CDH_CRYPTO_X509_H_

#include <string_view>

#include "absl/status/statusor.h"

namespace cdh::crypto {

// Number of certificates in a PEM bundle. INVALID_ARGUMENT when there is none or one of the
// "CERTIFICATE" blocks does not parse.
absl::StatusOr<int> CountPemCertificates(std::string_view pem);

}  // namespace cdh::crypto

#endif  // CDH_CRYPTO_X509_H_
