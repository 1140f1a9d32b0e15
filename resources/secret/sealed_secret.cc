#include "resources/secret/sealed_secret.h"

#include "common/base64.h"
#include "common/json.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace cdh::resources {
namespace {

bool IsUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n;
    if (c < 0x80)
      n = 0;
    else if ((c >> 5) == 0x6)
      n = 1;
    else if ((c >> 4) == 0xe)
      n = 2;
    else if ((c >> 3) == 0x1e)
      n = 3;
    else
      return false;
    if (s.size() - i < n + 1) return false;
    for (size_t k = 1; k <= n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return false;
    }
    i += n + 1;
  }
  return true;
}

absl::StatusOr<std::string_view> StripPrefix(std::string_view input) {
  if (input.size() > kMaxSealedSecretSize) {
    return absl::InvalidArgumentError(
        StrCat("sealed secret is larger than the limit of ", kMaxSealedSecretSize, " bytes"));
  }
  if (!IsUtf8(input)) return absl::InvalidArgumentError("sealed secret must be UTF-8 text");
  std::string_view s = TrimTrailingWhitespace(input);
  if (!s.starts_with(kSealedPrefix)) {
    return absl::InvalidArgumentError("sealed secret must begin with `sealed.`");
  }
  return s.substr(kSealedPrefix.size());
}

absl::StatusOr<std::string> DecodePart(std::string_view part, std::string_view name) {
  auto decoded = Base64UrlDecode(part);
  if (!decoded.ok()) {
    return absl::InvalidArgumentError(StrCat("sealed secret ", name, ": ", decoded.status().message()));
  }
  return *decoded;
}

absl::StatusOr<nlohmann::json> ObjectField(const nlohmann::json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    return absl::InvalidArgumentError(StrCat("sealed secret payload: missing field `", key, "`"));
  }
  if (!it->is_object()) {
    return absl::InvalidArgumentError(StrCat("sealed secret payload: field `", key, "` must be an object"));
  }
  return *it;
}

}  // namespace

std::string_view TrimTrailingWhitespace(std::string_view input) {
  while (!input.empty()) {
    char c = input.back();
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') break;
    input.remove_suffix(1);
  }
  return input;
}

absl::StatusOr<SignedSealedSecret> ParseSignedSealedSecret(std::string_view input) {
  CDH_ASSIGN_OR_RETURN(std::string_view jws, StripPrefix(input));
  std::vector<std::string_view> parts = StrSplit(jws, '.');
  if (parts.size() != 3) {
    return absl::InvalidArgumentError(StrCat(
        "sealed secret must be `sealed.<header>.<payload>.<signature>` (3 JWS parts), got ", parts.size(), " parts"));
  }
  // A header that is not base64url JSON is most often the legacy unsigned form
  // (`sealed.fakejwsheader.<payload>.fakesignature`, cdh-api.md §7.3): say how to accept it.
  constexpr std::string_view kLegacyHint =
      " (a legacy unsigned secret is accepted only with skip_sealed_secret_verification = true)";
  auto header_json = Base64UrlDecode(parts[0]);
  if (!header_json.ok()) {
    return absl::InvalidArgumentError(
        StrCat("sealed secret header: ", ToStd(header_json.status().message()), kLegacyHint));
  }
  auto header_or = ParseJson(*header_json, "sealed secret header");
  if (!header_or.ok() || !header_or->is_object()) {
    return absl::InvalidArgumentError(StrCat("sealed secret header is not a JSON object", kLegacyHint));
  }
  const nlohmann::json& header = *header_or;
  SignedSealedSecret out;
  auto alg = header.find("alg");
  if (alg == header.end() || !alg->is_string()) {
    return absl::InvalidArgumentError("sealed secret header has no `alg`");
  }
  out.alg = alg->get<std::string>();
  auto kid = header.find("kid");
  if (kid == header.end() || !kid->is_string() || kid->get<std::string>().empty()) {
    return absl::InvalidArgumentError("sealed secret header has no `kid`");
  }
  out.kid = kid->get<std::string>();
  if (auto b64 = header.find("b64"); b64 != header.end() && !(b64->is_boolean() && b64->get<bool>())) {
    return absl::InvalidArgumentError("sealed secret header `b64` must be true (unencoded payloads are not supported)");
  }
  if (header.contains("crit")) {
    return absl::InvalidArgumentError("sealed secret header `crit` is not supported");
  }
  if (parts[1].empty()) return absl::InvalidArgumentError("sealed secret has an empty payload");
  CDH_ASSIGN_OR_RETURN(out.payload_json, DecodePart(parts[1], "payload"));
  CDH_ASSIGN_OR_RETURN(out.signature, DecodePart(parts[2], "signature"));
  out.signing_input = StrCat(parts[0], ".", parts[1]);
  return out;
}

absl::StatusOr<std::string> ParseLegacySealedSecret(std::string_view input) {
  CDH_ASSIGN_OR_RETURN(std::string_view body, StripPrefix(input));
  std::vector<std::string_view> parts = StrSplit(body, '.');
  if (parts.size() != 3) {
    return absl::InvalidArgumentError(
        "legacy sealed secret must be `sealed.<header>.<payload>.<signature>` with 4 dot-separated parts");
  }
  return DecodePart(parts[1], "payload");
}

absl::StatusOr<SecretPayload> ParseSecretPayload(std::string_view payload_json) {
  CDH_ASSIGN_OR_RETURN(nlohmann::json p, ParseJson(payload_json, "sealed secret payload"));
  if (!p.is_object()) return absl::InvalidArgumentError("sealed secret payload must be a JSON object");
  constexpr std::string_view kWhat = "sealed secret payload";
  CDH_ASSIGN_OR_RETURN(std::string version, GetString(p, "version", kWhat));
  if (version != kSealedSecretVersion) {
    return absl::InvalidArgumentError(
        StrCat("sealed secret payload: version `", Sanitize(version, 32), "` not supported, only 0.1.0"));
  }
  CDH_ASSIGN_OR_RETURN(std::string type, GetString(p, "type", kWhat));
  if (type == "vault") {
    VaultSecret v;
    CDH_ASSIGN_OR_RETURN(v.name, GetString(p, "name", kWhat));
    CDH_ASSIGN_OR_RETURN(v.provider, GetString(p, "provider", kWhat));
    v.provider = AsciiToLower(v.provider);
    CDH_ASSIGN_OR_RETURN(v.provider_settings, ObjectField(p, "provider_settings"));
    CDH_ASSIGN_OR_RETURN(v.annotations, ObjectField(p, "annotations"));
    return SecretPayload(std::move(v));
  }
  if (type == "envelope") {
    EnvelopeSecret e;
    CDH_ASSIGN_OR_RETURN(e.key_id, GetString(p, "key_id", kWhat));
    CDH_ASSIGN_OR_RETURN(e.encrypted_key, GetString(p, "encrypted_key", kWhat));
    CDH_ASSIGN_OR_RETURN(e.encrypted_data, GetString(p, "encrypted_data", kWhat));
    CDH_ASSIGN_OR_RETURN(e.wrap_type, GetString(p, "wrap_type", kWhat));
    CDH_ASSIGN_OR_RETURN(e.iv, GetString(p, "iv", kWhat));
    CDH_ASSIGN_OR_RETURN(e.provider, GetString(p, "provider", kWhat));
    e.provider = AsciiToLower(e.provider);
    CDH_ASSIGN_OR_RETURN(e.provider_settings, ObjectField(p, "provider_settings"));
    CDH_ASSIGN_OR_RETURN(e.annotations, ObjectField(p, "annotations"));
    return SecretPayload(std::move(e));
  }
  return absl::InvalidArgumentError(
      StrCat("sealed secret payload: type `", Sanitize(type, 32), "` is not `vault` or `envelope`"));
}

std::string SerializeVaultPayload(const VaultSecret& v) {
  // Member order as upstream serialises it (cdh-api.md §8.1); ordered_json keeps insertion order.
  nlohmann::ordered_json j;
  j["version"] = kSealedSecretVersion;
  j["type"] = "vault";
  j["name"] = v.name;
  j["provider"] = v.provider;
  j["provider_settings"] = v.provider_settings;
  j["annotations"] = v.annotations;
  return j.dump();
}

std::string SerializeEnvelopePayload(const EnvelopeSecret& e) {
  nlohmann::ordered_json j;
  j["version"] = kSealedSecretVersion;
  j["type"] = "envelope";
  j["key_id"] = e.key_id;
  j["encrypted_key"] = e.encrypted_key;
  j["encrypted_data"] = e.encrypted_data;
  j["wrap_type"] = e.wrap_type;
  j["iv"] = e.iv;
  j["provider"] = e.provider;
  j["provider_settings"] = e.provider_settings;
  j["annotations"] = e.annotations;
  return j.dump();
}

}  // namespace cdh::resources
