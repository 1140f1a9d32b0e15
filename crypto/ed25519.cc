#include "crypto/ed25519.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "crypto/openssl_util.h"

namespace cdh::crypto {

absl::Status VerifyEd25519(std::string_view spki_pem, std::string_view message, std::string_view signature) {
  if (signature.size() != 64) return absl::InvalidArgumentError("Ed25519 signature must be 64 bytes");
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(spki_pem.data(), static_cast<int>(spki_pem.size())),
                                                BIO_free);
  EvpPkeyPtr key(bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!key || EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_ED25519) {
    ClearOpenSslErrors();
    return absl::InvalidArgumentError("public key is not an Ed25519 SubjectPublicKeyInfo PEM");
  }
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  int ok = ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) == 1
               ? EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                                  reinterpret_cast<const unsigned char*>(message.data()), message.size())
               : -1;
  ClearOpenSslErrors();
  if (ok != 1) return absl::PermissionDeniedError("Ed25519 signature does not verify");
  return absl::OkStatus();
}

}  // namespace cdh::crypto
