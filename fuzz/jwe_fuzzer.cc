// The broker's encrypted resource answer (a flattened JWE, kbs-client/jwe.h) decrypted with the
// known-answer TEE keys of tests/kbs_kat_vectors.h, so the checked-in seeds (the known-answer
// JWEs) decrypt and mutations reach every check up to the GCM tag. The first byte picks the key
// (EC P-256 or RSA-2048); the rest is the body.
#include "absl/strings/escaping.h"
#include "common/base64.h"
#include "common/json.h"
#include "crypto/ec_p256.h"
#include "crypto/rsa_oaep.h"
#include "fuzz/fuzz_util.h"
#include "kbs-client/jwe.h"
#include "kbs-client/tee_key.h"
#include "tests/kbs_kat_vectors.h"

namespace {

cdh::kbs::TeeKey KatEcKey() {
  nlohmann::json jwk = *cdh::ParseJson(cdh::kat::kTeeJwk, "jwk");
  jwk["d"] = cdh::Base64UrlEncode(absl::HexStringToBytes(cdh::kat::kTeeD));
  return cdh::kbs::TeeKey::FromEc(std::move(cdh::crypto::EcP256PrivateKey::FromJwk(jwk)).value());
}

struct Keys {
  cdh::kbs::TeeKey ec = KatEcKey();
  cdh::kbs::TeeKey rsa = cdh::kbs::TeeKey::FromRsa(
      std::move(cdh::crypto::RsaPrivateKey::FromPem(cdh::SecretBytes::FromString(cdh::kat::kRsaTeePem))).value());
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Keys keys;
  if (size == 0) return 0;
  const cdh::kbs::TeeKey& key = (data[0] & 1) ? keys.rsa : keys.ec;
  (void)cdh::kbs::DecryptJwe(cdh::fuzz::AsView(data + 1, size - 1), key);
  return 0;
}
