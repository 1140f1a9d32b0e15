// The encrypted resource response: a JWE in flattened JSON serialisation
// (KBS protocol 0.4.0, Trustee: confidential-containers/trustee kbs/docs/kbs_attestation_protocol.md):
//   {"protected":..,"encrypted_key":..,"iv":..,"ciphertext":..,"tag":..}   (base64url, no padding)
// alg ECDH-ES+A256KW (epk on P-256, Concat KDF, AES-256 key wrap) or RSA-OAEP-256; enc A256GCM
// with a detached 16-byte tag; AAD = the ASCII bytes of the `protected` member exactly as
// received, never a re-serialisation. An `aad` member is ignored, as upstream.
// Thread-safe (pure functions).
#ifndef CDH_KBS_CLIENT_JWE_H_
#define CDH_KBS_CLIENT_JWE_H_

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/secret_bytes.h"
#include "kbs-client/tee_key.h"
#include "nlohmann/json.hpp"

namespace cdh::kbs {

// Largest JWE body accepted, in bytes (the HTTP layer enforces its own limit first).
inline constexpr size_t kMaxJweBody = 16 << 20;

// Decrypts `body` (the broker's answer to a resource request) with `key`. Every failure is
// DATA_LOSS (docs/errors.md: a corrupt broker answer is the broker's fault, and neither
// INVALID_ARGUMENT nor PERMISSION_DENIED, which blame the caller), with a message naming what is
// wrong: not JSON, a member missing or not canonical base64url (padding, '+' '/'), header not
// JSON, epk not P-256 / short coordinates / off the curve, iv not 12 bytes, tag not 16 bytes
// (incl. the legacy tag-appended form), encrypted_key of the wrong size, alg of the other key
// type, an alg or enc this client does not support (RSA1_5, RSA-OAEP, dir, A128GCM...), or a
// failed authentication (key unwrap integrity check, OAEP decryption or the GCM tag: tampered
// protected, encrypted_key, iv, ciphertext or tag).
absl::StatusOr<SecretBytes> DecryptJwe(std::string_view body, const TeeKey& key);

// Server side (kbs-dev): builds the JWE exactly as Trustee serialises it (§3.4): protected
// header {"alg","enc"[,"epk":{"crv","kty","x","y"}]} compact, body members in the order above.
struct JweEncryptOptions {
  // Fixed inputs for known-answer tests; random when unset.
  std::optional<nlohmann::json> ephemeral_private_jwk;  // EC: {kty,crv,x,y,d}
  std::optional<std::string> cek;                       // 32 bytes
  std::optional<std::string> iv;                        // 12 bytes
  // Replaces the compact header JSON text before encoding (tests of a re-serialised header).
  std::function<std::string(const std::string&)> rewrite_header_for_test;
};
// INVALID_ARGUMENT when `tee_pubkey` is not a JWK of a supported type ({kty:"EC",crv:"P-256",
// alg:"ECDH-ES+A256KW",x,y} or {kty:"RSA",alg:"RSA-OAEP-256",n,e}); Trustee answers JweError then.
absl::StatusOr<std::string> EncryptJwe(const SecretBytes& plaintext, const nlohmann::json& tee_pubkey,
                                       const JweEncryptOptions& options = {});

}  // namespace cdh::kbs

#endif  // CDH_KBS_CLIENT_JWE_H_
