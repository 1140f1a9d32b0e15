#include "kbs-client/tee_key.h"

#include "common/base64.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace cdh::kbs {

absl::StatusOr<TeeKeyAlgorithm> ParseTeeKeyAlgorithm(std::string_view name) {
  if (name == "ECDH-ES+A256KW" || name == "ECDH-ES+A256KW-P256") return TeeKeyAlgorithm::kEcP256;
  if (name == "RSA-OAEP-256") return TeeKeyAlgorithm::kRsa2048;
  return absl::InvalidArgumentError(
      StrCat("unsupported TEE key algorithm `", name, "` (expected ECDH-ES+A256KW or RSA-OAEP-256)"));
}

absl::StatusOr<TeeKey> TeeKey::Generate(TeeKeyAlgorithm algorithm) {
  if (algorithm == TeeKeyAlgorithm::kRsa2048) {
    CDH_ASSIGN_OR_RETURN(crypto::RsaPrivateKey key, crypto::RsaPrivateKey::Generate(2048));
    return TeeKey(std::move(key));
  }
  CDH_ASSIGN_OR_RETURN(crypto::EcP256PrivateKey key, crypto::EcP256PrivateKey::Generate());
  return TeeKey(std::move(key));
}

TeeKeyAlgorithm TeeKey::algorithm() const { return ec() ? TeeKeyAlgorithm::kEcP256 : TeeKeyAlgorithm::kRsa2048; }

std::string_view TeeKey::jwe_alg() const { return ec() ? kEcAlg : kRsaAlg; }

nlohmann::json TeeKey::PublicJwk() const {
  if (const auto* k = ec()) {
    nlohmann::json jwk = k->ToPublicJwk();  // kty, crv, x, y (fixed 32-byte coordinates)
    jwk["alg"] = std::string(kEcAlg);
    return jwk;
  }
  const auto* r = rsa();
  return nlohmann::json{{"kty", "RSA"},
                        {"alg", std::string(kRsaAlg)},
                        {"n", Base64UrlEncode(r->Modulus())},
                        {"e", Base64UrlEncode(r->PublicExponent())}};
}

}  // namespace cdh::kbs
