// OpenSSL algorithm implementations fetched once per process, for the crypto module only.
//
// OpenSSL 3 turns a legacy EVP_aes_256_gcm() or EVP_sha256() into the provider's implementation
// again at every context initialisation (a fetch by name: a method-store lookup under a lock);
// an algorithm fetched explicitly skips that. Each function fetches from the default library
// context on its first call and keeps the result for the life of the process (never freed).
// The objects are immutable once fetched: thread-safe. Each returns null when the default
// provider does not offer the algorithm; callers turn that into INTERNAL.
#ifndef CDH_CRYPTO_EVP_ALGORITHMS_H_
#define CDH_CRYPTO_EVP_ALGORITHMS_H_

#include <openssl/evp.h>

namespace cdh::crypto {

const EVP_CIPHER* Aes256GcmCipher();   // "AES-256-GCM"
const EVP_CIPHER* Aes256WrapCipher();  // "AES-256-WRAP" (RFC 3394)
const EVP_MD* Sha256Md();              // "SHA2-256"
const EVP_MD* Sha384Md();              // "SHA2-384"
const EVP_MD* Sha512Md();              // "SHA2-512"

}  // namespace cdh::crypto

#endif  // CDH_CRYPTO_EVP_ALGORITHMS_H_
