#include "kbs-dev/kbs_server_messages.h"

#include "common/base64.h"
#include "common/json.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "crypto/aes.h"
#include "crypto/aes_key_wrap.h"
#include "crypto/ecdh_p256.h"
#include "crypto/hash.h"
#include "crypto/rsa_oaep.h"
#include "kbs-client/tee_key.h"

namespace cdh::kbs {
namespace {

using OrderedJson = nlohmann::ordered_json;

constexpr std::string_view kEnc = "A256GCM";
constexpr size_t kIvSize = 12;
constexpr size_t kCekSize = 32;

std::string Dump(const OrderedJson& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

absl::StatusOr<std::string> DecodeMember(std::string_view name, std::string_view text) {
  auto bytes = Base64UrlDecode(text);
  if (!bytes.ok()) {
    return absl::InvalidArgumentError(StrCat("JWK member `", name, "`: ", ToStd(bytes.status().message())));
  }
  return bytes;
}

}  // namespace

absl::StatusOr<AuthRequest> ParseAuthRequest(std::string_view body) {
  CDH_ASSIGN_OR_RETURN(nlohmann::json j, ParseProtocolJson(body, "auth request"));
  AuthRequest req;
  CDH_ASSIGN_OR_RETURN(req.version, GetString(j, "version", "auth request"));
  CDH_ASSIGN_OR_RETURN(req.tee, GetString(j, "tee", "auth request"));
  auto it = j.find("extra-params");
  if (it == j.end()) return absl::InvalidArgumentError("auth request: missing field `extra-params`");
  req.extra_params = *it;
  return req;
}

std::string BuildChallenge(std::string_view nonce) {
  OrderedJson c;
  c["nonce"] = std::string(nonce);
  c["extra-params"] = "";
  return Dump(c);
}

absl::StatusOr<AttestRequest> ParseAttestRequest(std::string_view body) {
  constexpr std::string_view kWhat = "attestation request";
  CDH_ASSIGN_OR_RETURN(nlohmann::json j, ParseProtocolJson(body, kWhat));
  AttestRequest r;
  CDH_ASSIGN_OR_RETURN(nlohmann::json rd, GetObject(j, "runtime-data", kWhat));
  CDH_ASSIGN_OR_RETURN(r.nonce, GetString(rd, "nonce", "runtime-data"));
  CDH_ASSIGN_OR_RETURN(r.tee_pubkey, GetObject(rd, "tee-pubkey", "runtime-data"));
  CDH_ASSIGN_OR_RETURN(nlohmann::json ev, GetObject(j, "tee-evidence", kWhat));
  auto primary = ev.find("primary_evidence");
  if (primary == ev.end()) return absl::InvalidArgumentError("tee-evidence: missing field `primary_evidence`");
  r.primary_evidence = *primary;
  CDH_ASSIGN_OR_RETURN(r.additional_evidence, GetString(ev, "additional_evidence", "tee-evidence"));
  auto init = j.find("init-data");
  r.init_data = init == j.end() ? nlohmann::json() : *init;
  return r;
}

std::string BuildProblem(std::string_view type, std::string_view detail) {
  OrderedJson p;
  p["type"] = StrCat(kErrorTypePrefix, type);
  p["detail"] = std::string(detail);
  return Dump(p);
}

absl::StatusOr<std::string> EncryptJwe(const SecretBytes& plaintext, const nlohmann::json& tee_pubkey,
                                       const JweEncryptOptions& options) {
  if (!tee_pubkey.is_object()) return absl::InvalidArgumentError("tee-pubkey must be a JWK object");
  CDH_ASSIGN_OR_RETURN(std::string kty, GetString(tee_pubkey, "kty", "tee-pubkey"));
  CDH_ASSIGN_OR_RETURN(std::string alg, GetString(tee_pubkey, "alg", "tee-pubkey"));

  // The CEK and the IV come from one draw of the random generator (one DRBG call, not two).
  CDH_ASSIGN_OR_RETURN(SecretBytes random, crypto::RandomBytes(kCekSize + kIvSize));
  SecretBytes cek = options.cek ? SecretBytes::FromString(*options.cek) : SecretBytes(random.Reveal().first(kCekSize));
  std::string iv = options.iv ? *options.iv : std::string(random.RevealString().substr(kCekSize));
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
