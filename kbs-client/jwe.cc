#include "kbs-client/jwe.h"

#include "common/base64.h"
#include "common/json.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "crypto/aes.h"
#include "crypto/aes_key_wrap.h"
#include "crypto/ecdh_p256.h"
#include "crypto/hash.h"
#include "crypto/rsa_oaep.h"
#include "kbs-client/kbs_protocol.h"

namespace cdh::kbs {
namespace {

constexpr std::string_view kEnc = "A256GCM";
constexpr size_t kIvSize = 12;
constexpr size_t kCekSize = 32;

absl::StatusOr<std::string> Member(const nlohmann::json& jwe, const char* name) {
  auto it = jwe.find(name);
  if (it == jwe.end()) {
    if (std::string_view(name) == "tag") {
      return absl::InvalidArgumentError(
          "JWE: missing `tag` (the legacy form with the tag appended to the ciphertext is not accepted)");
    }
    return absl::InvalidArgumentError(StrCat("JWE: missing member `", name, "`"));
  }
  if (!it->is_string()) return absl::InvalidArgumentError(StrCat("JWE: member `", name, "` must be a string"));
  return it->get<std::string>();
}

absl::StatusOr<std::string> DecodeMember(std::string_view name, std::string_view text) {
  auto bytes = Base64UrlDecode(text);
  if (!bytes.ok()) {
    return absl::InvalidArgumentError(StrCat("JWE member `", name, "`: ", ToStd(bytes.status().message())));
  }
  return bytes;
}

absl::StatusOr<SecretBytes> UnwrapEcdh(const nlohmann::json& header, std::string_view encrypted_key,
                                       const crypto::EcP256PrivateKey& key) {
  auto epk = header.find("epk");
  if (epk == header.end() || !epk->is_object()) {
    return absl::InvalidArgumentError("JWE header: ECDH-ES+A256KW needs an `epk` object");
  }
  auto kty = epk->find("kty");
  auto crv = epk->find("crv");
  if (kty == epk->end() || !kty->is_string() || *kty != "EC") {
    return absl::InvalidArgumentError("JWE header: `epk.kty` must be \"EC\"");
  }
  if (crv == epk->end() || !crv->is_string() || *crv != "P-256") {
    return absl::InvalidArgumentError("JWE header: `epk.crv` must be \"P-256\", the curve of the TEE key");
  }
  auto peer = crypto::EcP256PublicKey::FromJwk(*epk);
  if (!peer.ok()) return Annotate(peer.status(), "JWE header `epk`");
  if (encrypted_key.size() != kCekSize + 8) {
    return absl::InvalidArgumentError(
        StrCat("JWE: `encrypted_key` must be ", kCekSize + 8, " bytes for ECDH-ES+A256KW, got ", encrypted_key.size()));
  }
  CDH_ASSIGN_OR_RETURN(SecretBytes z, crypto::EcdhP256(key, *peer));
  CDH_ASSIGN_OR_RETURN(SecretBytes kek, crypto::ConcatKdfSha256(z, TeeKey::kEcAlg, 256));
  auto cek = crypto::Aes256KeyUnwrap(kek, encrypted_key);
  if (!cek.ok()) return Annotate(cek.status(), "JWE");
  return cek;
}

absl::StatusOr<SecretBytes> Decrypt(std::string_view body, const TeeKey& key) {
  if (body.size() > kMaxJweBody) return absl::InvalidArgumentError("JWE: body too large");
  CDH_ASSIGN_OR_RETURN(nlohmann::json jwe, ParseProtocolJson(body, "JWE"));
  if (!jwe.is_object()) return absl::InvalidArgumentError("JWE must be a JSON object");
  CDH_ASSIGN_OR_RETURN(std::string protected_b64, Member(jwe, "protected"));
  CDH_ASSIGN_OR_RETURN(std::string ek_b64, Member(jwe, "encrypted_key"));
  CDH_ASSIGN_OR_RETURN(std::string iv_b64, Member(jwe, "iv"));
  CDH_ASSIGN_OR_RETURN(std::string ct_b64, Member(jwe, "ciphertext"));
  CDH_ASSIGN_OR_RETURN(std::string tag_b64, Member(jwe, "tag"));

  CDH_ASSIGN_OR_RETURN(std::string header_text, DecodeMember("protected", protected_b64));
  CDH_ASSIGN_OR_RETURN(std::string encrypted_key, DecodeMember("encrypted_key", ek_b64));
  CDH_ASSIGN_OR_RETURN(std::string iv, DecodeMember("iv", iv_b64));
  CDH_ASSIGN_OR_RETURN(std::string ciphertext, DecodeMember("ciphertext", ct_b64));
  CDH_ASSIGN_OR_RETURN(std::string tag, DecodeMember("tag", tag_b64));

  CDH_ASSIGN_OR_RETURN(nlohmann::json header, ParseProtocolJson(header_text, "JWE protected header"));
  if (!header.is_object()) return absl::InvalidArgumentError("JWE protected header must be a JSON object");
  CDH_ASSIGN_OR_RETURN(std::string alg, GetString(header, "alg", "JWE protected header"));
  CDH_ASSIGN_OR_RETURN(std::string enc, GetString(header, "enc", "JWE protected header"));
  if (enc != kEnc) return absl::UnimplementedError(StrCat("JWE: unsupported `enc` (only ", kEnc, ")"));
  if (alg != TeeKey::kEcAlg && alg != TeeKey::kRsaAlg) {
    return absl::UnimplementedError(
        StrCat("JWE: unsupported `alg` (only ", TeeKey::kEcAlg, " and ", TeeKey::kRsaAlg, ")"));
  }
  if (alg != key.jwe_alg()) {
    return absl::InvalidArgumentError(StrCat("JWE: `alg` ", alg, " does not match the TEE key (", key.jwe_alg(), ")"));
  }
  if (iv.size() != kIvSize) return absl::InvalidArgumentError(StrCat("JWE: `iv` must be 12 bytes, got ", iv.size()));
  if (tag.size() != crypto::kGcmTagSize) {
    return absl::InvalidArgumentError(StrCat("JWE: `tag` must be 16 bytes, got ", tag.size()));
  }

  SecretBytes cek;
  if (const auto* ec = key.ec()) {
    CDH_ASSIGN_OR_RETURN(cek, UnwrapEcdh(header, encrypted_key, *ec));
  } else {
    auto unwrapped = key.rsa()->DecryptOaepSha256(encrypted_key);
    if (!unwrapped.ok()) return Annotate(unwrapped.status(), "JWE `encrypted_key`");
    cek = std::move(unwrapped).value();
  }
  if (cek.size() != kCekSize) return absl::InvalidArgumentError("JWE: content encryption key must be 32 bytes");
  // AAD: the received `protected` string, byte for byte.
  auto plaintext = crypto::Aes256GcmDecrypt(cek, iv, ciphertext, tag, protected_b64);
  if (!plaintext.ok()) return Annotate(plaintext.status(), "JWE content");
  return plaintext;
}

}  // namespace

absl::StatusOr<SecretBytes> DecryptJwe(std::string_view body, const TeeKey& key) {
  auto plaintext = Decrypt(body, key);
  // The JWE is the broker's answer: whatever is wrong with it is the broker's fault, not the
  // caller's input nor a policy refusal (docs/errors.md), and asking again will not mend it.
  if (!plaintext.ok()) return absl::DataLossError(plaintext.status().message());
  return plaintext;
}

absl::StatusOr<std::string> EncryptJwe(const SecretBytes& plaintext, const nlohmann::json& tee_pubkey,
                                       const JweEncryptOptions& options) {
  if (!tee_pubkey.is_object()) return absl::InvalidArgumentError("tee-pubkey must be a JWK object");
  CDH_ASSIGN_OR_RETURN(std::string kty, GetString(tee_pubkey, "kty", "tee-pubkey"));
  CDH_ASSIGN_OR_RETURN(std::string alg, GetString(tee_pubkey, "alg", "tee-pubkey"));

  SecretBytes cek;
  if (options.cek) {
    cek = SecretBytes::FromString(*options.cek);
  } else {
    CDH_ASSIGN_OR_RETURN(cek, crypto::RandomBytes(kCekSize));
  }
  std::string iv;
  if (options.iv) {
    iv = *options.iv;
  } else {
    CDH_ASSIGN_OR_RETURN(SecretBytes r, crypto::RandomBytes(kIvSize));
    iv = std::string(r.RevealString());
  }
  if (cek.size() != kCekSize || iv.size() != kIvSize) {
    return absl::InvalidArgumentError("JWE: CEK must be 32 bytes and IV 12 bytes");
  }

  nlohmann::ordered_json header;
  std::string encrypted_key;
  if (kty == "EC" && alg == TeeKey::kEcAlg) {
    auto peer = crypto::EcP256PublicKey::FromJwk(tee_pubkey);
    if (!peer.ok()) return Annotate(peer.status(), "tee-pubkey");
    std::optional<crypto::EcP256PrivateKey> eph;
    if (options.ephemeral_private_jwk) {
      CDH_ASSIGN_OR_RETURN(eph, crypto::EcP256PrivateKey::FromJwk(*options.ephemeral_private_jwk));
    } else {
      CDH_ASSIGN_OR_RETURN(eph, crypto::EcP256PrivateKey::Generate());
    }
    CDH_ASSIGN_OR_RETURN(SecretBytes z, crypto::EcdhP256(*eph, *peer));
    CDH_ASSIGN_OR_RETURN(SecretBytes kek, crypto::ConcatKdfSha256(z, TeeKey::kEcAlg, 256));
    CDH_ASSIGN_OR_RETURN(encrypted_key, crypto::Aes256KeyWrap(kek, cek));
    nlohmann::json epk = eph->ToPublicJwk();
    header["alg"] = std::string(TeeKey::kEcAlg);
    header["enc"] = std::string(kEnc);
    header["epk"]["crv"] = "P-256";
    header["epk"]["kty"] = "EC";
    header["epk"]["x"] = epk["x"];
    header["epk"]["y"] = epk["y"];
  } else if (kty == "RSA" && alg == TeeKey::kRsaAlg) {
    CDH_ASSIGN_OR_RETURN(std::string n64, GetString(tee_pubkey, "n", "tee-pubkey"));
    CDH_ASSIGN_OR_RETURN(std::string e64, GetString(tee_pubkey, "e", "tee-pubkey"));
    CDH_ASSIGN_OR_RETURN(std::string n, DecodeMember("n", n64));
    CDH_ASSIGN_OR_RETURN(std::string e, DecodeMember("e", e64));
    CDH_ASSIGN_OR_RETURN(crypto::RsaPublicKey pub, crypto::RsaPublicKey::FromModulusExponent(n, e));
    CDH_ASSIGN_OR_RETURN(encrypted_key, pub.EncryptOaepSha256(cek));
    header["alg"] = std::string(TeeKey::kRsaAlg);
    header["enc"] = std::string(kEnc);
  } else {
    return absl::InvalidArgumentError("tee-pubkey: unsupported key type or alg");
  }
  std::string header_text = header.dump();
  if (options.rewrite_header_for_test) header_text = options.rewrite_header_for_test(header_text);
  std::string protected_b64 = Base64UrlEncode(header_text);
  CDH_ASSIGN_OR_RETURN(crypto::GcmCiphertext sealed,
                       crypto::Aes256GcmEncrypt(cek, iv, plaintext.RevealString(), protected_b64));
  nlohmann::ordered_json body;
  body["protected"] = protected_b64;
  body["encrypted_key"] = Base64UrlEncode(encrypted_key);
  body["iv"] = Base64UrlEncode(iv);
  body["ciphertext"] = Base64UrlEncode(sealed.ciphertext);
  body["tag"] = Base64UrlEncode(sealed.tag);
  return body.dump();
}

}  // namespace cdh::kbs
