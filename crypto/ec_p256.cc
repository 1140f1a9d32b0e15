#include "crypto/ec_p256.h"

#include <cstring>
#include <utility>

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

// The P-256 domain parameters as a key without a point, made once per process and never freed.
// Keys are made from it — imported public keys by copying it (EVP_PKEY_dup copies the group with
// its precomputed Montgomery constants), fresh key pairs with it as the key generation template —
// instead of by curve name, which has OpenSSL 3.0 build the group anew for every key (field and
// order Montgomery contexts, a modular inversion): about 20 µs of every key import or generation.
// Null if OpenSSL cannot make it. Read-only after it is made: safe for concurrent use.
EVP_PKEY* DomainTemplate() {
  static EVP_PKEY* const domain = [] {
    EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
    char group[] = "P-256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
                           OSSL_PARAM_construct_end()};
    EVP_PKEY* raw = nullptr;
    if (!ctx || EVP_PKEY_paramgen_init(ctx.get()) != 1 || EVP_PKEY_CTX_set_params(ctx.get(), params) != 1 ||
        EVP_PKEY_paramgen(ctx.get(), &raw) != 1) {
      ClearOpenSslErrors();
      return static_cast<EVP_PKEY*>(nullptr);
    }
    return raw;
  }();
  return domain;
}

// The public key at (x, y), 32 bytes each. Setting the point checks that both coordinates are
// below the field prime and that the point is on the curve (EC_POINT_oct2point); the quick check
// below states the requirement explicitly: coordinates in range, on the curve, not the point at
// infinity. P-256 has cofactor 1, so every such point has the group order, which the full check
// would confirm with a scalar multiplication (NIST SP 800-56A rev. 3, 5.6.2.3.4).
absl::StatusOr<EvpPkeyPtr> BuildPublicKey(std::string_view x, std::string_view y) {
  EVP_PKEY* domain = DomainTemplate();
  if (domain == nullptr) return absl::InternalError("OpenSSL cannot make the P-256 domain parameters");
  EvpPkeyPtr key(EVP_PKEY_dup(domain));
  if (!key) return OpenSslError("EVP_PKEY_dup");
  unsigned char point[1 + 2 * kCoordinateSize];
  point[0] = 0x04;  // uncompressed (SEC 1, 2.3.3)
  std::memcpy(point + 1, x.data(), kCoordinateSize);
  std::memcpy(point + 1 + kCoordinateSize, y.data(), kCoordinateSize);
  if (EVP_PKEY_set1_encoded_public_key(key.get(), point, sizeof(point)) != 1) {
    ClearOpenSslErrors();
    return absl::InvalidArgumentError("JWK point is not on the P-256 curve");
  }
  EvpPkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (!check || EVP_PKEY_public_check_quick(check.get()) != 1) {
    ClearOpenSslErrors();
    return absl::InvalidArgumentError("JWK point is not on the P-256 curve");
  }
  return key;
}

// Builds a key pair from the uncompressed point and the private scalar, and checks that they
// belong together.
absl::StatusOr<EvpPkeyPtr> BuildKeyPair(std::string_view x, std::string_view y, const SecretBytes& d) {
  std::string point = "\x04";
  point.append(x);
  point.append(y);
  std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> bld(OSSL_PARAM_BLD_new(), OSSL_PARAM_BLD_free);
  if (!bld) return OpenSslError("OSSL_PARAM_BLD_new");
  BnPtr priv(BN_bin2bn(d.Reveal().data(), static_cast<int>(d.size()), nullptr));
  if (!priv) return OpenSslError("BN_bin2bn");
  OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
  OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
  OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, priv.get());
  std::unique_ptr<OSSL_PARAM, decltype(&OSSL_PARAM_free)> params(OSSL_PARAM_BLD_to_param(bld.get()), OSSL_PARAM_free);
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_KEYPAIR, params.get()) <= 0) {
    ClearOpenSslErrors();
    return absl::InvalidArgumentError("JWK point is not on the P-256 curve");
  }
  EvpPkeyPtr key(raw);
  // fromdata does not validate the pair; check explicitly.
  EvpPkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (!check || EVP_PKEY_pairwise_check(check.get()) != 1) {
    ClearOpenSslErrors();
    return absl::InvalidArgumentError("JWK private key `d` does not match `x`/`y`");
  }
  return key;
}

// The 32-byte big-endian affine coordinates of the public point of `pkey`, read as one
// uncompressed point (one parameter query instead of a BIGNUM per coordinate).
struct Coordinates {
  std::string x;
  std::string y;
};

Coordinates PublicCoordinates(EVP_PKEY* pkey) {
  unsigned char point[1 + 2 * kCoordinateSize];
  size_t len = 0;
  Coordinates out{std::string(kCoordinateSize, '\0'), std::string(kCoordinateSize, '\0')};
  if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point, sizeof(point), &len) == 1 &&
      len == sizeof(point) && point[0] == 0x04) {
    out.x.assign(reinterpret_cast<const char*>(point) + 1, kCoordinateSize);
    out.y.assign(reinterpret_cast<const char*>(point) + 1 + kCoordinateSize, kCoordinateSize);
    return out;
  }
  ClearOpenSslErrors();  // a key that prefers the compressed form: one coordinate at a time
  for (auto [param, dest] :
       {std::pair{OSSL_PKEY_PARAM_EC_PUB_X, &out.x}, std::pair{OSSL_PKEY_PARAM_EC_PUB_Y, &out.y}}) {
    BIGNUM* bn = nullptr;
    if (EVP_PKEY_get_bn_param(pkey, param, &bn) == 1) {
      BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(dest->data()), kCoordinateSize);
    }
    BN_free(bn);
  }
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
  CDH_ASSIGN_OR_RETURN(EvpPkeyPtr key, BuildPublicKey(x, y));
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

std::string EcP256PublicKey::X() const { return PublicCoordinates(AsPkey(pkey_)).x; }
std::string EcP256PublicKey::Y() const { return PublicCoordinates(AsPkey(pkey_)).y; }

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
  // With the domain parameters as the template, the new key copies their group instead of
  // building it by name (see DomainTemplate).
  EVP_PKEY* domain = DomainTemplate();
  if (domain == nullptr) return absl::InternalError("OpenSSL cannot make the P-256 domain parameters");
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, domain, nullptr));
  EVP_PKEY* pkey = nullptr;
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 || EVP_PKEY_keygen(ctx.get(), &pkey) != 1) {
    return OpenSslError("EC P-256 key generation");
  }
  return EcP256PrivateKey(pkey);
}

absl::StatusOr<EcP256PrivateKey> EcP256PrivateKey::FromJwk(const nlohmann::json& jwk) {
  CDH_RETURN_IF_ERROR(CheckKtyCrv(jwk));
  CDH_ASSIGN_OR_RETURN(std::string x, JwkCoordinate(jwk, "x"));
  CDH_ASSIGN_OR_RETURN(std::string y, JwkCoordinate(jwk, "y"));
  CDH_ASSIGN_OR_RETURN(SecretBytes d, JwkPrivateScalar(jwk));
  auto key = BuildKeyPair(x, y, d);
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
  Coordinates point = PublicCoordinates(AsPkey(pkey_));
  return nlohmann::json{
      {"kty", "EC"}, {"crv", "P-256"}, {"x", Base64UrlEncode(point.x)}, {"y", Base64UrlEncode(point.y)}};
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
  Coordinates point = PublicCoordinates(AsPkey(pkey_));
  auto key = EcP256PublicKey::FromCoordinates(point.x, point.y);
  return std::move(key).value();  // our own valid key: cannot fail
}

}  // namespace cdh::crypto
