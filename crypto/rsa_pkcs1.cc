#include "crypto/rsa_pkcs1.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "crypto/openssl_util.h"
#include "crypto/rsa_oaep.h"

namespace cdh::crypto {

absl::StatusOr<std::string> RsaSpkiFromModulusExponent(std::string_view n, std::string_view e) {
  auto key = RsaPublicKey::FromModulusExponent(n, e);  // same bounds and checks as for the JWE key
  if (!key.ok()) return key.status();
  return key->SpkiDer();
}

absl::Status VerifyRsaPkcs1Sha256(std::string_view spki_der, std::string_view message, std::string_view signature) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(spki_der.data());
  EvpPkeyPtr pkey(d2i_PUBKEY(nullptr, &p, static_cast<long>(spki_der.size())));
  if (!pkey || p != reinterpret_cast<const unsigned char*>(spki_der.data()) + spki_der.size()) {
    ClearOpenSslErrors();
    return absl::InvalidArgumentError("public key is not a DER SubjectPublicKeyInfo");
  }
  if (EVP_PKEY_get_base_id(pkey.get()) != EVP_PKEY_RSA) return absl::InvalidArgumentError("public key is not RSA");
  EvpMdCtxPtr md(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (!md || EVP_DigestVerifyInit(md.get(), &pctx, EVP_sha256(), nullptr, pkey.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) {
    return OpenSslError("RSA verify init");
  }
  int rc = EVP_DigestVerify(md.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                            reinterpret_cast<const unsigned char*>(message.data()), message.size());
  if (rc != 1) {
    ClearOpenSslErrors();
    return absl::PermissionDeniedError("RSA PKCS#1 v1.5 SHA-256 signature does not verify");
  }
  return absl::OkStatus();
}

}  // namespace cdh::crypto
