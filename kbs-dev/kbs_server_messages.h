// The broker's side of the KBS RCAR protocol 0.4.0, for kbs-dev (the development broker) and for
// tests that play the broker: parsing the client's requests and building the broker's answers,
// including the JWE exactly as Trustee serialises it (docs/references.md: Trustee
// kbs/docs/kbs_attestation_protocol.md). Not linked into the data hub.
// Thread-safe (pure functions).
#ifndef CDH_KBS_DEV_KBS_SERVER_MESSAGES_H_
#define CDH_KBS_DEV_KBS_SERVER_MESSAGES_H_

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/secret_bytes.h"
#include "kbs-client/kbs_protocol.h"
#include "nlohmann/json.hpp"

namespace cdh::kbs {

// ---- /auth (§1.1) ----

struct AuthRequest {
  std::string version;
  std::string tee;
  nlohmann::json extra_params;
};
// INVALID_ARGUMENT when the body is not a Request object (missing `version`,
// `tee` or `extra-params`, or wrong types).
absl::StatusOr<AuthRequest> ParseAuthRequest(std::string_view body);

// {"nonce":"<nonce>","extra-params":""}.
std::string BuildChallenge(std::string_view nonce);

// ---- /attest (§1.2) ----

// INVALID_ARGUMENT naming the missing or mistyped member.
absl::StatusOr<AttestRequest> ParseAttestRequest(std::string_view body);

// ---- errors (§5) ----

// {"type":"<prefix><type>","detail":"<detail>"}.
std::string BuildProblem(std::string_view type, std::string_view detail);

// ---- resources (§3.4) ----

// EncryptJwe builds the resource answer's JWE (the shape kbs-client/jwe.h decrypts) exactly as
// Trustee serialises it (§3.4): protected header {"alg","enc"[,"epk":{"crv","kty","x","y"}]}
// compact, body members protected, encrypted_key, iv, ciphertext, tag.
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

#endif  // CDH_KBS_DEV_KBS_SERVER_MESSAGES_H_
