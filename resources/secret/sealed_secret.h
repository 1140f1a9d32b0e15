// Sealed secrets: "sealed." + a compact JWS whose payload describes where the secret is
// (cdh-api.md §7-8).
//
// Input policy (our decisions, documented in README "Sealed secrets"):
// - At most kMaxSealedSecretSize bytes; must be UTF-8 text.
// - Trailing ASCII whitespace (" \t\r\n") is removed before parsing: Kubernetes secret files
//   often end in "\n" or "\r\n" and the kata agent sends them untrimmed. No
//   part of a JWS can contain whitespace, so this never changes what is verified. Upstream fails
//   on such input.
// - Exactly one "sealed." prefix is required (upstream strips any number, or none).
// - Signed form: 3 dot-separated base64url parts without padding; header {"alg":"ES256","kid":…}.
// - Legacy form (only when verification is disabled): "sealed.<x>.<payload>.<y>", 4 parts, parts
//   1 and 3 ignored (cdh-api.md §7.3).
// Errors are INVALID_ARGUMENT with a message naming the part and the rule broken.
// All types here are copyable values; functions are thread-safe.
#ifndef CDH_RESOURCES_SECRET_SEALED_SECRET_H_
#define CDH_RESOURCES_SECRET_SEALED_SECRET_H_

#include <string>
#include <string_view>
#include <variant>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace cdh::resources {

inline constexpr std::string_view kSealedPrefix = "sealed.";
inline constexpr size_t kMaxSealedSecretSize = 1 << 20;  // bytes, after which input is refused
inline constexpr std::string_view kSealedSecretVersion = "0.1.0";

// A signed sealed secret split into its JWS parts (cdh-api.md §7.1-7.2). Not yet verified.
struct SignedSealedSecret {
  std::string kid;            // from the protected header
  std::string alg;            // from the protected header
  std::string signing_input;  // "<b64 header>.<b64 payload>" exactly as received
  std::string signature;      // decoded signature bytes
  std::string payload_json;   // decoded payload (JSON text)
};

// Parses the signed form. The signature is not checked here (see SecretUnsealer).
absl::StatusOr<SignedSealedSecret> ParseSignedSealedSecret(std::string_view input);
// Parses the legacy unsigned 4-part form and returns the payload JSON text.
absl::StatusOr<std::string> ParseLegacySealedSecret(std::string_view input);
// Removes trailing " \t\r\n" (the trailing-whitespace policy above).
std::string_view TrimTrailingWhitespace(std::string_view input);

// Payload of a vault secret (cdh-api.md §8.1): the secret stays with a provider, found by name.
struct VaultSecret {
  std::string name;      // for provider "kbs": a resource URI
  std::string provider;  // lower-cased
  nlohmann::json provider_settings = nlohmann::json::object();
  nlohmann::json annotations = nlohmann::json::object();
};

// Payload of an envelope secret (cdh-api.md §8.1, §8.3): the secret travels encrypted.
struct EnvelopeSecret {
  std::string key_id;
  std::string encrypted_key;   // standard base64, as received
  std::string encrypted_data;  // standard base64, as received
  std::string wrap_type;       // "A256GCM" | "A256CTR"
  std::string iv;              // standard base64, as received
  std::string provider;        // lower-cased
  nlohmann::json provider_settings = nlohmann::json::object();
  nlohmann::json annotations = nlohmann::json::object();
};

using SecretPayload = std::variant<VaultSecret, EnvelopeSecret>;

// Parses the payload JSON: every field of the type is required; `version` must be exactly
// "0.1.0"; `type` is "vault" or "envelope". INVALID_ARGUMENT naming the field otherwise.
absl::StatusOr<SecretPayload> ParseSecretPayload(std::string_view payload_json);

// Builds the payload JSON of a vault secret in upstream's member order (the `secret` CLI).
std::string SerializeVaultPayload(const VaultSecret& vault);
std::string SerializeEnvelopePayload(const EnvelopeSecret& envelope);

}  // namespace cdh::resources

#endif  // CDH_RESOURCES_SECRET_SEALED_SECRET_H_
