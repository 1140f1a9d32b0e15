#include "crypto/ec_p256.h"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "common/base64.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "crypto/openssl_util.h"

namespace cdh::crypto {
namespace {

constexpr size_t kCoordinateSize = 32;

EVP_PKEY* AsPkey(void* p) { return static_cast<EVP_PKEY*>(p); }

absl::StatusOr<std::string> JwkCoordinate(const nlohmann::json& jwk, const char* name) {
  auto it = jwk.find(name);
  if (it == jwk.end() || !it->is_string()) {
    return absl::InvalidArgumentError(StrCat("JWK member `", name, "` is missing"));
  }
  auto bytes = Base64UrlDecode(it->get<std::string>());
  if (!bytes.ok()) {
    return absl::InvalidArgumentError(StrCat("JWK member `", name, "`: ", bytes.status().message()));
  }
  if (bytes->size() != kCoordinateSize) {
    return absl::InvalidArgumentError(StrCat("JWK member `", name, "` must be 32 bytes, got ", bytes->size()));
  }
  return *bytes;
}

// The JWK's private scalar `d`: 32 bytes, base64url.
absl::StatusOr<SecretBytes> JwkPrivateScalar(const nlohmann::json& jwk) {
  auto it = jwk.find("d");
  if (it == jwk.end() || !it->is_string()) return absl::InvalidArgumentError("JWK member `d` is missing");
  absl::StatusOr<SecretBytes> d = Base64UrlDecodeSecret(it->get_ref<const std::string&>());
  if (!d.ok()) return absl::InvalidArgumentError(StrCat("JWK member `d`: ", d.status().message()));
  if (d->size() != kCoordinateSize) {
    return absl::InvalidArgumentError(StrCat("JWK member `d` must be 32 bytes, got ", d->size()));
  }
  return d;
}

// The private scalar of `pkey`, 32 bytes big-endian, written straight into a SecretBytes.
SecretBytes PrivateScalar(EVP_PKEY* pkey) {
  SecretBytes out(kCoordinateSize);
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, &bn) == 1) {
    BN_bn2binpad(bn, out.RevealMutable().data(), kCoordinateSize);
  }
  BN_clear_free(bn);
  return out;
}

absl::Status CheckKtyCrv(const nlohmann::json& jwk) {
  if (!jwk.is_object()) return absl::InvalidArgumentError("JWK must be a JSON object");
  auto kty = jwk.find("kty");
  auto crv = jwk.find("crv");
  if (kty == jwk.end() || !kty->is_string() || kty->get<std::string>() != "EC" || crv == jwk.end() ||
      !crv->is_string() || crv->get<std::string>() != "P-256") {
    return absl::InvalidArgumentError("key must be an EC P-256 JWK (kty \"EC\", crv \"P-256\")");
  }
  return absl::OkStatus();
}

// Builds an EVP_PKEY from the uncompressed point and, optionally, the private scalar.
absl::StatusOr<EvpPkeyPtr> BuildKey(std::string_view x, std::string_view y, const SecretBytes* d) {
  std::string point = "\x04";
  point.append(x);
  point.append(y);
  std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> bld(OSSL_PARAM_BLD_new(), OSSL_PARAM_BLD_free);
  BnPtr priv;
  if (!bld) return OpenSslError("OSSL_PARAM_BLD_new");
  OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
  OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
  if (d != nullptr) {
    priv.reset(BN_bin2bn(d->Reveal().data(), static_cast<int>(d->size()), nullptr));
    if (!priv) return OpenSslError("BN_bin2bn");
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, priv.get());
  }
  std::unique_ptr<OSSL_PARAM, decltype(&OSSL_PARAM_free)> params(OSSL_PARAM_BLD_to_param(bld.get()), OSSL_PARAM_free);
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, d ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params.get()) <= 0) {
    ClearOpenSslErrors();
    return absl::InvalidArgumentError("JWK point is not on the P-256 curve");
  }
  EvpPkeyPtr key(raw);
  // fromdata does not validate the point or the pair; check explicitly. For a public key the
  // quick check suffices (coordinates in range, on the curve, not the point at infinity): P-256
  // has cofactor 1, so every such point has the group order, which the full check would confirm
  // with a scalar multiplication (NIST SP 800-56A rev. 3, 5.6.2.3.4).
  EvpPkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  int ok = d ? EVP_PKEY_pairwise_check(check.get()) : EVP_PKEY_public_check_quick(check.get());
  if (ok != 1) {
    ClearOpenSslErrors();
    return absl::InvalidArgumentError(d ? "JWK private key `d` does not match `x`/`y`"
                                        : "JWK point is not on the P-256 curve");
  }
  return key;
}

std::string Coordinate(EVP_PKEY* pkey, const char* param) {
  BIGNUM* bn = nullptr;
  std::string out(kCoordinateSize, '\0');
  if (EVP_PKEY_get_bn_param(pkey, param, &bn) == 1) {
    BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), kCoordinateSize);
  }
  BN_free(bn);
  return out;
}

}  // namespace

// ---- EcP256PublicKey ----

absl::StatusOr<EcP256PublicKey> EcP256PublicKey::FromJwk(const nlohmann::json& jwk) {
  CDH_RETURN_IF_ERROR(CheckKtyCrv(jwk));
  CDH_ASSIGN_OR_RETURN(std::string x, JwkCoordinate(jwk, "x"));
  CDH_ASSIGN_OR_RETURN(std::string y, JwkCoordinate(jwk, "y"));
  return FromCoordinates(x, y);
}

absl::StatusOr<EcP256PublicKey> EcP256PublicKey::FromCoordinates(std::string_view x, std::string_view y) {
  if (x.size() != kCoordinateSize || y.size() != kCoordinateSize) {
    return absl::InvalidArgumentError("P-256 coordinates must be 32 bytes each");
  }
  CDH_ASSIGN_OR_RETURN(EvpPkeyPtr key, BuildKey(x, y, nullptr));
  return EcP256PublicKey(key.release());
}

EcP256PublicKey::EcP256PublicKey(EcP256PublicKey&& o) noexcept : pkey_(o.pkey_) { o.pkey_ = nullptr; }
EcP256PublicKey& EcP256PublicKey::operator=(EcP256PublicKey&& o) noexcept {
  if (this != &o) {
    EVP_PKEY_free(AsPkey(pkey_));
    pkey_ = o.pkey_;
    o.pkey_ = nullptr;
  }
  return *this;
}
EcP256PublicKey::~EcP256PublicKey() { EVP_PKEY_free(AsPkey(pkey_)); }

std::string EcP256PublicKey::X() const { return Coordinate(AsPkey(pkey_), OSSL_PKEY_PARAM_EC_PUB_X); }
std::string EcP256PublicKey::Y() const { return Coordinate(AsPkey(pkey_), OSSL_PKEY_PARAM_EC_PUB_Y); }

absl::Status EcP256PublicKey::VerifyEs256(std::string_view message, std::string_view signature) const {
  if (signature.size() != 2 * kCoordinateSize) {
    return absl::InvalidArgumentError(StrCat("ES256 signature must be 64 bytes (raw r||s), got ", signature.size()));
  }
  // Raw r||s -> DER ECDSA-Sig-Value, which EVP_DigestVerify expects.
  ECDSA_SIG* sig = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(signature.data()), 32, nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(signature.data()) + 32, 32, nullptr);
  if (sig == nullptr || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig, r, s) != 1) {
    ECDSA_SIG_free(sig);
    BN_free(r);
    BN_free(s);
    return OpenSslError("ECDSA_SIG_set0");
  }
  unsigned char* der = nullptr;
  int der_len = i2d_ECDSA_SIG(sig, &der);
  ECDSA_SIG_free(sig);
  if (der_len <= 0) return OpenSslError("i2d_ECDSA_SIG");
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  int ok = ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, AsPkey(pkey_)) == 1
               ? EVP_DigestVerify(ctx.get(), der, static_cast<size_t>(der_len),
                                  reinterpret_cast<const unsigned char*>(message.data()), message.size())
               : -1;
  OPENSSL_free(der);
  ClearOpenSslErrors();
  if (ok != 1) return absl::PermissionDeniedError("signature verification failed");
  return absl::OkStatus();
}

// ---- EcP256PrivateKey ----

absl::StatusOr<EcP256PrivateKey> EcP256PrivateKey::Generate() {
  EVP_PKEY* pkey = EVP_EC_gen("P-256");
  if (pkey == nullptr) return OpenSslError("EC P-256 key generation");
  return EcP256PrivateKey(pkey);
}

absl::StatusOr<EcP256PrivateKey> EcP256PrivateKey::FromJwk(const nlohmann::json& jwk) {
  CDH_RETURN_IF_ERROR(CheckKtyCrv(jwk));
  CDH_ASSIGN_OR_RETURN(std::string x, JwkCoordinate(jwk, "x"));
  CDH_ASSIGN_OR_RETURN(std::string y, JwkCoordinate(jwk, "y"));
  CDH_ASSIGN_OR_RETURN(SecretBytes d, JwkPrivateScalar(jwk));
  auto key = BuildKey(x, y, &d);
  if (!key.ok()) return key.status();
  return EcP256PrivateKey(key->release());
}

EcP256PrivateKey::EcP256PrivateKey(EcP256PrivateKey&& o) noexcept : pkey_(o.pkey_) { o.pkey_ = nullptr; }
EcP256PrivateKey& EcP256PrivateKey::operator=(EcP256PrivateKey&& o) noexcept {
  if (this != &o) {
    EVP_PKEY_free(AsPkey(pkey_));
    pkey_ = o.pkey_;
    o.pkey_ = nullptr;
  }
  return *this;
}
EcP256PrivateKey::~EcP256PrivateKey() { EVP_PKEY_free(AsPkey(pkey_)); }

absl::StatusOr<std::string> EcP256PrivateKey::SignEs256(std::string_view message) const {
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  size_t der_len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, AsPkey(pkey_)) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &der_len, reinterpret_cast<const unsigned char*>(message.data()),
                     message.size()) != 1) {
    return OpenSslError("ES256 sign");
  }
  std::string der(der_len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(der.data()), &der_len,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1) {
    return OpenSslError("ES256 sign");
  }
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der_len));
  if (sig == nullptr) return OpenSslError("d2i_ECDSA_SIG");
  std::string raw(64, '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(sig), reinterpret_cast<unsigned char*>(raw.data()), 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(sig), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
  ECDSA_SIG_free(sig);
  return raw;
}

nlohmann::json EcP256PrivateKey::ToPublicJwk() const {
  return nlohmann::json{{"kty", "EC"},
                        {"crv", "P-256"},
                        {"x", Base64UrlEncode(Coordinate(AsPkey(pkey_), OSSL_PKEY_PARAM_EC_PUB_X))},
                        {"y", Base64UrlEncode(Coordinate(AsPkey(pkey_), OSSL_PKEY_PARAM_EC_PUB_Y))}};
}

SecretBytes EcP256PrivateKey::ToPrivateJwkString(const nlohmann::json& extra_members) const {
  nlohmann::json jwk = extra_members.is_object() ? extra_members : nlohmann::json::object();
  jwk.erase("d");
  nlohmann::json pub = ToPublicJwk();
  for (auto it = pub.begin(); it != pub.end(); ++it) jwk[it.key()] = it.value();
  // The public members are serialised by the JSON library; `d` is spliced in as text so the
  // scalar never sits in a JSON string: {..., "d":"<base64url>"}.
  std::string public_text = jwk.dump();
  SecretBytes text;
  text.reserve(public_text.size() + 8 + 43);
  text.Append(std::string_view(public_text).substr(0, public_text.size() - 1));
  text.Append(std::string_view(jwk.empty() ? "\"d\":\"" : ",\"d\":\""));
  text.Append(Base64UrlEncodeSecret(PrivateScalar(AsPkey(pkey_))).Reveal());
  text.Append(std::string_view("\"}"));
  return text;
}

EcP256PublicKey EcP256PrivateKey::PublicKey() const {
  auto key = EcP256PublicKey::FromCoordinates(Coordinate(AsPkey(pkey_), OSSL_PKEY_PARAM_EC_PUB_X),
                                              Coordinate(AsPkey(pkey_), OSSL_PKEY_PARAM_EC_PUB_Y));
  return std::move(key).value();  // our own valid key: cannot fail
}

}  // namespace cdh::crypto
