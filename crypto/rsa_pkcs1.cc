#include "crypto/rsa_pkcs1.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "crypto/openssl_util.h"

namespace cdh::crypto {

absl::StatusOr<std::string> RsaSpkiFromModulusExponent(std::string_view n, std::string_view e) {
  while (!n.empty() && n.front() == '\0') n.remove_prefix(1);
  while (!e.empty() && e.front() == '\0') e.remove_prefix(1);
  if (n.size() < 256 || n.size() > 1024) return absl::InvalidArgumentError("RSA modulus must be 2048 to 8192 bits");
  if (e.empty() || e.size() > 8 || (e.back() & 1) == 0 || (e.size() == 1 && static_cast<uint8_t>(e[0]) < 3)) {
    return absl::InvalidArgumentError("RSA public exponent must be odd and at least 3");
  }
  BnPtr bn_n(BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()), static_cast<int>(n.size()), nullptr));
  BnPtr bn_e(BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()), static_cast<int>(e.size()), nullptr));
  std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> bld(OSSL_PARAM_BLD_new(), OSSL_PARAM_BLD_free);
  if (!bn_n || !bn_e || !bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
    return OpenSslError("RSA public key parameters");
  }
  std::unique_ptr<OSSL_PARAM, decltype(&OSSL_PARAM_free)> params(OSSL_PARAM_BLD_to_param(bld.get()), OSSL_PARAM_free);
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    ClearOpenSslErrors();
    return absl::InvalidArgumentError("RSA public key does not load");
  }
  EvpPkeyPtr pkey(raw);
  int len = i2d_PUBKEY(pkey.get(), nullptr);
  if (len <= 0) return OpenSslError("i2d_PUBKEY");
  std::string der(static_cast<size_t>(len), '\0');
  unsigned char* p = reinterpret_cast<unsigned char*>(der.data());
  if (i2d_PUBKEY(pkey.get(), &p) != len) return OpenSslError("i2d_PUBKEY");
  return der;
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
