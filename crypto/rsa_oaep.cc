#include "crypto/rsa_oaep.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "common/strings.h"
#include "crypto/openssl_util.h"

namespace cdh::crypto {
namespace {

EVP_PKEY* AsPkey(void* p) { return static_cast<EVP_PKEY*>(p); }

std::string BnParam(EVP_PKEY* pkey, const char* name) {
  BIGNUM* bn = nullptr;
  std::string out;
  if (EVP_PKEY_get_bn_param(pkey, name, &bn) == 1) {
    out.resize(BN_num_bytes(bn));
    BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  }
  BN_free(bn);
  return out;
}

absl::Status SetOaepSha256(EVP_PKEY_CTX* ctx) {
  if (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) != 1 ||
      EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()) != 1 || EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) != 1) {
    return OpenSslError("RSA-OAEP-256 parameters");
  }
  return absl::OkStatus();
}

}  // namespace

// ---- RsaPublicKey ----

absl::StatusOr<RsaPublicKey> RsaPublicKey::FromModulusExponent(std::string_view n, std::string_view e) {
  while (!n.empty() && n.front() == '\0') n.remove_prefix(1);
  while (!e.empty() && e.front() == '\0') e.remove_prefix(1);
  if (n.size() < 256 || n.size() > 1024) {
    return absl::InvalidArgumentError("RSA modulus must be 2048 to 8192 bits");
  }
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
  return RsaPublicKey(raw);
}

absl::StatusOr<std::string> RsaPublicKey::SpkiDer() const {
  EVP_PKEY* pkey = static_cast<EVP_PKEY*>(pkey_);
  int len = i2d_PUBKEY(pkey, nullptr);
  if (len <= 0) return OpenSslError("i2d_PUBKEY");
  std::string der(static_cast<size_t>(len), '\0');
  unsigned char* p = reinterpret_cast<unsigned char*>(der.data());
  if (i2d_PUBKEY(pkey, &p) != len) return OpenSslError("i2d_PUBKEY");
  return der;
}

RsaPublicKey::RsaPublicKey(RsaPublicKey&& o) noexcept : pkey_(o.pkey_) { o.pkey_ = nullptr; }
RsaPublicKey& RsaPublicKey::operator=(RsaPublicKey&& o) noexcept {
  if (this != &o) {
    EVP_PKEY_free(AsPkey(pkey_));
    pkey_ = o.pkey_;
    o.pkey_ = nullptr;
  }
  return *this;
}
RsaPublicKey::~RsaPublicKey() { EVP_PKEY_free(AsPkey(pkey_)); }

absl::StatusOr<std::string> RsaPublicKey::EncryptOaepSha256(const SecretBytes& plaintext) const {
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, AsPkey(pkey_), nullptr));
  if (!ctx || EVP_PKEY_encrypt_init(ctx.get()) != 1) return OpenSslError("RSA-OAEP-256 encrypt init");
  if (auto s = SetOaepSha256(ctx.get()); !s.ok()) return s;
  size_t len = 0;
  if (EVP_PKEY_encrypt(ctx.get(), nullptr, &len, plaintext.Reveal().data(), plaintext.size()) != 1) {
    return OpenSslError("RSA-OAEP-256 encrypt");
  }
  std::string out(len, '\0');
  if (EVP_PKEY_encrypt(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len, plaintext.Reveal().data(),
                       plaintext.size()) != 1) {
    return OpenSslError("RSA-OAEP-256 encrypt");
  }
  out.resize(len);
  return out;
}

// ---- RsaPrivateKey ----

absl::StatusOr<RsaPrivateKey> RsaPrivateKey::Generate(int bits) {
  if (bits < 2048 || bits > 8192) return absl::InvalidArgumentError("RSA key size must be 2048..8192 bits");
  EVP_PKEY* pkey = EVP_RSA_gen(static_cast<unsigned int>(bits));
  if (pkey == nullptr) return OpenSslError("RSA key generation");
  return RsaPrivateKey(pkey);
}

absl::StatusOr<RsaPrivateKey> RsaPrivateKey::FromPem(const SecretBytes& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.Reveal().data(), static_cast<int>(pem.size())),
                                                BIO_free);
  if (!bio) return OpenSslError("BIO_new_mem_buf");
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  if (pkey == nullptr) {
    ClearOpenSslErrors();
    return absl::InvalidArgumentError("private key PEM does not parse");
  }
  if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) {
    EVP_PKEY_free(pkey);
    return absl::InvalidArgumentError("private key PEM is not an RSA key");
  }
  return RsaPrivateKey(pkey);
}

RsaPrivateKey::RsaPrivateKey(RsaPrivateKey&& o) noexcept : pkey_(o.pkey_) { o.pkey_ = nullptr; }
RsaPrivateKey& RsaPrivateKey::operator=(RsaPrivateKey&& o) noexcept {
  if (this != &o) {
    EVP_PKEY_free(AsPkey(pkey_));
    pkey_ = o.pkey_;
    o.pkey_ = nullptr;
  }
  return *this;
}
RsaPrivateKey::~RsaPrivateKey() { EVP_PKEY_free(AsPkey(pkey_)); }

std::string RsaPrivateKey::Modulus() const { return BnParam(AsPkey(pkey_), OSSL_PKEY_PARAM_RSA_N); }
std::string RsaPrivateKey::PublicExponent() const { return BnParam(AsPkey(pkey_), OSSL_PKEY_PARAM_RSA_E); }
size_t RsaPrivateKey::ModulusSize() const { return static_cast<size_t>(EVP_PKEY_get_size(AsPkey(pkey_))); }

absl::StatusOr<SecretBytes> RsaPrivateKey::DecryptOaepSha256(std::string_view ciphertext) const {
  if (ciphertext.size() != ModulusSize()) {
    return absl::InvalidArgumentError(
        StrCat("RSA-OAEP-256 ciphertext must be ", ModulusSize(), " bytes, got ", ciphertext.size()));
  }
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, AsPkey(pkey_), nullptr));
  if (!ctx || EVP_PKEY_decrypt_init(ctx.get()) != 1) return OpenSslError("RSA-OAEP-256 decrypt init");
  if (auto s = SetOaepSha256(ctx.get()); !s.ok()) return s;
  SecretBytes out(ModulusSize());
  size_t len = out.size();
  if (EVP_PKEY_decrypt(ctx.get(), out.RevealMutable().data(), &len,
                       reinterpret_cast<const unsigned char*>(ciphertext.data()), ciphertext.size()) != 1) {
    ClearOpenSslErrors();
    return absl::PermissionDeniedError("RSA-OAEP-256 decryption failed");
  }
  SecretBytes plain(out.Reveal().subspan(0, len));
  return plain;
}

}  // namespace cdh::crypto
