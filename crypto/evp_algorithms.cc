#include "crypto/evp_algorithms.h"

#include <openssl/err.h>

namespace cdh::crypto {
namespace {

// Function-local statics: initialised once, thread-safe (C++11 [stmt.dcl]/4).
EVP_CIPHER* FetchCipher(const char* name) {
  EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, name, nullptr);
  if (cipher == nullptr) ERR_clear_error();
  return cipher;
}

EVP_MD* FetchMd(const char* name) {
  EVP_MD* md = EVP_MD_fetch(nullptr, name, nullptr);
  if (md == nullptr) ERR_clear_error();
  return md;
}

}  // namespace

const EVP_CIPHER* Aes256GcmCipher() {
  static const EVP_CIPHER* const cipher = FetchCipher("AES-256-GCM");
  return cipher;
}

const EVP_CIPHER* Aes256WrapCipher() {
  static const EVP_CIPHER* const cipher = FetchCipher("AES-256-WRAP");
  return cipher;
}

const EVP_MD* Sha256Md() {
  static const EVP_MD* const md = FetchMd("SHA2-256");
  return md;
}

const EVP_MD* Sha384Md() {
  static const EVP_MD* const md = FetchMd("SHA2-384");
  return md;
}

const EVP_MD* Sha512Md() {
  static const EVP_MD* const md = FetchMd("SHA2-512");
  return md;
}

}  // namespace cdh::crypto
