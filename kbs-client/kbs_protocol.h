// The wire messages of the KBS RCAR protocol, version 0.4.0, as the client sees them: it builds
// requests and parses answers (the broker's side lives in kbs-dev/kbs_server_messages.h).
// KBS protocol 0.4.0 §1 (handshake), §2 (runtime data -> report data), §4.1 (token claims),
// §5 (problem bodies) (sources: docs/references.md).
// Parsers never throw and never echo their input in error messages (it may hold tokens).
// Thread-safe (pure functions).
#ifndef CDH_KBS_CLIENT_KBS_PROTOCOL_H_
#define CDH_KBS_CLIENT_KBS_PROTOCOL_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/secret_bytes.h"
#include "crypto/hash.h"
#include "nlohmann/json.hpp"

namespace cdh::kbs {

inline constexpr std::string_view kProtocolVersion = "0.4.0";
inline constexpr std::string_view kSessionCookieName = "kbs-session-id";
inline constexpr std::string_view kErrorTypePrefix = "https://github.com/confidential-containers/kbs/errors/";
inline constexpr std::string_view kApiPrefix = "/kbs/v0";

// ---- JSON from the other end ----

// Deepest nesting of arrays/objects accepted in any protocol message. nlohmann-json copies and
// serialises recursively, so unbounded nesting from a peer could exhaust the stack.
inline constexpr int kMaxJsonDepth = 32;
// ParseJson after checking the nesting depth. INVALID_ARGUMENT "<what> is nested too deeply" or
// "<what> is not valid JSON".
absl::StatusOr<nlohmann::json> ParseProtocolJson(std::string_view text, std::string_view what);

// ---- /auth (§1.1) ----

// {"version":"0.4.0","tee":"<tee>","extra-params":{"supported-hash-algorithms":["sha256","sha384","sha512"]}}
// in that member order (sm3 is not offered: this client cannot compute it).
std::string BuildAuthRequest(std::string_view tee);

struct Challenge {
  std::string nonce;                                            // opaque; echoed byte for byte
  crypto::HashAlgorithm hash = crypto::HashAlgorithm::kSha384;  // for the report data
};
// Tolerant of `extra-params` being "", null, absent or an object; an object's
// `selected-hash-algorithm` (string, case-insensitive) selects the hash, else SHA-384.
// INVALID_ARGUMENT when the body is not a JSON object with a string `nonce`, or the selected
// algorithm is not a string; UNIMPLEMENTED when it names an algorithm this client lacks (sm3).
absl::StatusOr<Challenge> ParseChallenge(std::string_view body);

// ---- runtime data and report data (§2) ----

// JCS of {"additional-evidence": <additional_evidence>, "nonce": <nonce>, "tee-pubkey": <jwk>}
// (the primary evidence's runtime data, §2.1). INVALID_ARGUMENT if the JWK cannot be canonicalised.
absl::StatusOr<std::string> CanonicalRuntimeData(std::string_view nonce, const nlohmann::json& tee_pubkey,
                                                 std::string_view additional_evidence);
// The report data: hash(CanonicalRuntimeData(...)), raw digest bytes (48 for SHA-384).
absl::StatusOr<std::string> RuntimeDataDigest(crypto::HashAlgorithm hash, std::string_view nonce,
                                              const nlohmann::json& tee_pubkey, std::string_view additional_evidence);

// ---- /attest (§1.2) ----

struct AttestRequest {
  std::string nonce;                // runtime-data.nonce
  nlohmann::json tee_pubkey;        // runtime-data.tee-pubkey (JWK object)
  nlohmann::json primary_evidence;  // tee-evidence.primary_evidence
  std::string additional_evidence;  // tee-evidence.additional_evidence ("" when none)
  nlohmann::json init_data;         // null or {"format":"toml","body":...}
};
// Member order as the Rust client sends it: init-data, runtime-data{nonce, tee-pubkey},
// tee-evidence{primary_evidence, additional_evidence}.
std::string BuildAttestRequest(const AttestRequest& request);

// {"token":"<jwt>"} -> the token. INVALID_ARGUMENT when the body is not that shape.
absl::StatusOr<SecretBytes> ParseAttestResponse(std::string_view body);

// ---- token (§4.1-4.2) ----

struct TokenClaims {
  std::optional<int64_t> exp;  // seconds since the epoch
  std::optional<int64_t> nbf;
  std::optional<int64_t> iat;
};
// Reads the claims of a compact JWT (second segment, base64url without padding, JSON object).
// The signature is not checked: the client cannot verify the broker's signer (§4.2).
// INVALID_ARGUMENT when the token is not three segments or the claims do not decode; claims that
// are present but not integers are INVALID_ARGUMENT too.
absl::StatusOr<TokenClaims> ParseTokenClaims(std::string_view token);

// ---- errors (§5) ----

struct Problem {
  std::string type;    // the variant name after kErrorTypePrefix, e.g. "PolicyDeny"; the full
                       // `type` if it lacks the prefix
  std::string detail;  // at most kMaxProblemDetail bytes
};
inline constexpr size_t kMaxProblemDetail = 512;
// nullopt when `body` is not a JSON object with a string `type`.
std::optional<Problem> ParseProblem(std::string_view body);

}  // namespace cdh::kbs

#endif  // CDH_KBS_CLIENT_KBS_PROTOCOL_H_
