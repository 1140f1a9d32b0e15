// RAII holders for OpenSSL objects and the error-queue helper. Only the crypto module includes
// OpenSSL headers.
#ifndef CDH_CRYPTO_OPENSSL_UTIL_H_
#define CDH_CRYPTO_OPENSSL_UTIL_H_

#include <memory>
#include <string>
#include <string_view>

#include <openssl/bn.h>
#include <openssl/evp.h>

#include "absl/status/status.h"

namespace cdh::crypto {

struct EvpPkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct EvpPkeyCtxDeleter {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct EvpCipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* p) const { EVP_CIPHER_CTX_free(p); }
};
struct EvpMdCtxDeleter {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct BnDeleter {
  void operator()(BIGNUM* p) const { BN_clear_free(p); }
};

using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyDeleter>;
using EvpPkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, EvpPkeyCtxDeleter>;
using EvpCipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, EvpCipherCtxDeleter>;
using EvpMdCtxPtr = std::unique_ptr<EVP_MD_CTX, EvpMdCtxDeleter>;
using BnPtr = std::unique_ptr<BIGNUM, BnDeleter>;

// INTERNAL status "<what>: <first OpenSSL error>"; clears the thread's error queue.
absl::Status OpenSslError(std::string_view what);
// Clears the thread's OpenSSL error queue (after an expected failure such as a bad signature).
void ClearOpenSslErrors();

}  // namespace cdh::crypto

#endif  // CDH_CRYPTO_OPENSSL_UTIL_H_
