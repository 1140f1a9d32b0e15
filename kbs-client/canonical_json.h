// RFC 8785 JSON Canonicalization Scheme (JCS) for the values the KBS protocol hashes
// (KBS protocol 0.4.0, Trustee: confidential-containers/trustee kbs/docs/kbs_attestation_protocol.md): objects with
// members sorted by the UTF-16 code units of their names, no whitespace, strings with minimal escaping ('/' is not
// escaped; control characters as \b \f \n \r \t or \u00xx), integers in decimal, true/false/null.
// Thread-safe (pure function).
#ifndef CDH_KBS_CLIENT_CANONICAL_JSON_H_
#define CDH_KBS_CLIENT_CANONICAL_JSON_H_

#include <string>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace cdh::kbs {

// INVALID_ARGUMENT for floating-point numbers (their ECMAScript formatting is not implemented;
// the protocol never hashes one), for strings that are not valid UTF-8, and for integers beyond
// ±2^53 (not exactly representable in JCS's IEEE-754 model).
absl::StatusOr<std::string> CanonicalJson(const nlohmann::json& value);

}  // namespace cdh::kbs

#endif  // CDH_KBS_CLIENT_CANONICAL_JSON_H_
