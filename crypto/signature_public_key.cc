#include "crypto/signature_public_key.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "common/strings.h"
#include "crypto/openssl_util.h"

namespace cdh::crypto {
namespace {

EVP_PKEY* AsPkey(void* p) { return static_cast<EVP_PKEY*>(p); }

constexpr std::string_view kPemBegin = "-----BEGIN PUBLIC KEY-----";

absl::StatusOr<SignaturePublicKey::Algorithm> Classify(EVP_PKEY* key) {
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_ED25519:
      return SignaturePublicKey::Algorithm::kEd25519;
    case EVP_PKEY_RSA: {
      int bits = EVP_PKEY_get_bits(key);
      if (bits < 2048 || bits > 8192) {
        return absl::InvalidArgumentError(StrCat("RSA public key of ", bits, " bits; 2048 to 8192 are accepted"));
      }
      return SignaturePublicKey::Algorithm::kRsaPkcs1Sha256;
    }
    case EVP_PKEY_EC: {
      char group[64] = {0};
      size_t len = 0;
      if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), &len) != 1) {
        ClearOpenSslErrors();
        return absl::InvalidArgumentError("EC public key without a named curve");
      }
      std::string_view name(group, len);
      if (name == "prime256v1" || name == "P-256") return SignaturePublicKey::Algorithm::kEcdsaP256Sha256;
      if (name == "secp384r1" || name == "P-384") return SignaturePublicKey::Algorithm::kEcdsaP384Sha384;
      return absl::InvalidArgumentError(
          StrCat("EC public key on curve `", Sanitize(name, 32), "`; P-256 and P-384 are accepted"));
    }
    default:
      return absl::InvalidArgumentError("public key type not accepted (ECDSA P-256/P-384, Ed25519 or RSA)");
  }
}

}  // namespace

absl::StatusOr<SignaturePublicKey> SignaturePublicKey::FromPem(std::string_view pem) {
  size_t begin = pem.find(kPemBegin);
  if (begin == std::string_view::npos) {
    return absl::InvalidArgumentError(
        "no \"-----BEGIN PUBLIC KEY-----\" block (a PEM SubjectPublicKeyInfo is expected)");
  }
  std::string_view block = pem.substr(begin);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(block.data(), static_cast<int>(block.size())),
                                                BIO_free);
  EvpPkeyPtr key(bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!key) {
    ClearOpenSslErrors();
    return absl::InvalidArgumentError("the PUBLIC KEY block does not parse as a SubjectPublicKeyInfo");
  }
  if (EVP_PKEY_get_base_id(key.get()) == EVP_PKEY_EC) {
    EvpPkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
    if (!check || EVP_PKEY_public_check(check.get()) != 1) {
      ClearOpenSslErrors();
      return absl::InvalidArgumentError("EC public key point is not valid");
    }
  }
  auto algorithm = Classify(key.get());
  if (!algorithm.ok()) return algorithm.status();
  return SignaturePublicKey(key.release(), *algorithm);
}

SignaturePublicKey::SignaturePublicKey(SignaturePublicKey&& o) noexcept : pkey_(o.pkey_), algorithm_(o.algorithm_) {
  o.pkey_ = nullptr;
}
SignaturePublicKey& SignaturePublicKey::operator=(SignaturePublicKey&& o) noexcept {
  if (this != &o) {
    EVP_PKEY_free(AsPkey(pkey_));
    pkey_ = o.pkey_;
    algorithm_ = o.algorithm_;
    o.pkey_ = nullptr;
  }
  return *this;
}
SignaturePublicKey::~SignaturePublicKey() { EVP_PKEY_free(AsPkey(pkey_)); }

std::string_view SignaturePublicKey::AlgorithmName() const {
  switch (algorithm_) {
    case Algorithm::kEcdsaP256Sha256:
      return "ECDSA P-256";
    case Algorithm::kEcdsaP384Sha384:
      return "ECDSA P-384";
    case Algorithm::kEd25519:
      return "Ed25519";
    case Algorithm::kRsaPkcs1Sha256:
      return "RSA";
  }
  return "unknown";
}

absl::Status SignaturePublicKey::Verify(std::string_view message, std::string_view signature) const {
  const EVP_MD* md = nullptr;
  switch (algorithm_) {
    case Algorithm::kEcdsaP256Sha256:
      md = EVP_sha256();
      break;
    case Algorithm::kEcdsaP384Sha384:
      md = EVP_sha384();
      break;
    case Algorithm::kRsaPkcs1Sha256:
      md = EVP_sha256();
      break;
    case Algorithm::kEd25519:
      md = nullptr;
      break;  // Ed25519 hashes internally
  }
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), &pctx, md, nullptr, AsPkey(pkey_)) != 1) {
    return OpenSslError("signature verify init");
  }
  if (algorithm_ == Algorithm::kRsaPkcs1Sha256 && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) {
    return OpenSslError("RSA padding");
  }
  int ok = EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                            reinterpret_cast<const unsigned char*>(message.data()), message.size());
  ClearOpenSslErrors();
  if (ok != 1) return absl::PermissionDeniedError(StrCat(AlgorithmName(), " signature does not verify"));
  return absl::OkStatus();
}

}  // namespace cdh::crypto
