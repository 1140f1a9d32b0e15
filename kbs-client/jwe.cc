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

}  // namespace cdh::kbs
