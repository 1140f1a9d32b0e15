#include "crypto/x509.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "crypto/openssl_util.h"

namespace cdh::crypto {

absl::StatusOr<int> CountPemCertificates(std::string_view pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  if (!bio) return OpenSslError("BIO_new_mem_buf");
  int count = 0;
  while (true) {
    X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    if (cert == nullptr) {
      unsigned long err = ERR_peek_last_error();
      ClearOpenSslErrors();
      if (ERR_GET_REASON(err) == PEM_R_NO_START_LINE && count > 0) break;  // end of bundle
      return absl::InvalidArgumentError(count == 0 ? "no PEM certificate found"
                                                   : "a PEM certificate block does not parse");
    }
    X509_free(cert);
    ++count;
  }
  return count;
}

}  // namespace cdh::crypto
