#include "resources/image/key_unwrapper.h"

#include "common/base64.h"
#include "common/json.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace cdh::resources {
namespace {

constexpr std::string_view kPacket = "UnWrapKey annotation packet";

absl::StatusOr<std::string> OptionalString(const nlohmann::json& obj, const char* key, std::string fallback) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return fallback;
  if (!it->is_string()) return absl::InvalidArgumentError(StrCat(kPacket, ": field `", key, "` must be a string"));
  return it->get<std::string>();
}

absl::StatusOr<nlohmann::json> OptionalObject(const nlohmann::json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nlohmann::json::object();
  if (!it->is_object()) return absl::InvalidArgumentError(StrCat(kPacket, ": field `", key, "` must be an object"));
  return *it;
}

absl::StatusOr<std::string> Decode(const std::string& b64, const char* field) {
  auto bytes = Base64StdDecode(b64);
  if (!bytes.ok())
    return absl::InvalidArgumentError(StrCat(kPacket, ": field `", field, "`: ", ToStd(bytes.status().message())));
  return *bytes;
}

}  // namespace

absl::StatusOr<SecretBytes> KeyUnwrapper::UnwrapLayerKey(std::string_view input_json, const CallContext& ctx) {
  if (input_json.size() > kMaxInputSize) {
    return absl::InvalidArgumentError(StrCat("UnWrapKey input is larger than ", kMaxInputSize, " bytes"));
  }
  CDH_ASSIGN_OR_RETURN(nlohmann::json input, ParseJson(input_json, "UnWrapKey input"));
  if (!input.is_object()) return absl::InvalidArgumentError("UnWrapKey input must be a JSON object");
  for (const char* field : {"op", "keywrapparams", "keyunwrapparams"}) {
    if (!input.contains(field))
      return absl::InvalidArgumentError(StrCat("UnWrapKey input: missing field `", field, "`"));
  }
  // `op` selects the operation; this service only unwraps, so anything else (`keywrap`, a typo)
  // is refused instead of being served as an unwrap.
  if (!input["op"].is_string() || input["op"].get<std::string>() != "keyunwrap") {
    return absl::InvalidArgumentError(
        StrCat("UnWrapKey input: field `op` must be \"keyunwrap\", got ",
               Sanitize(input["op"].dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), 32)));
  }
  if (!input["keywrapparams"].is_object() && !input["keywrapparams"].is_null()) {
    return absl::InvalidArgumentError("UnWrapKey input: field `keywrapparams` must be an object");
  }
  const nlohmann::json& params = input["keyunwrapparams"];
  if (!params.is_object() || !params.contains("annotation") || params["annotation"].is_null()) {
    return absl::InvalidArgumentError("Illegal UnwrapKey request: no AnnotationPacket given");
  }
  if (!params["annotation"].is_string()) {
    return absl::InvalidArgumentError("UnWrapKey input: `keyunwrapparams.annotation` must be a base64 string");
  }
  auto packet_text = Base64StdDecode(params["annotation"].get<std::string>());
  if (!packet_text.ok()) {
    return absl::InvalidArgumentError(StrCat("UnWrapKey input: `annotation`: ", ToStd(packet_text.status().message())));
  }
  CDH_ASSIGN_OR_RETURN(nlohmann::json packet, ParseJson(*packet_text, kPacket));
  if (!packet.is_object()) return absl::InvalidArgumentError(StrCat(kPacket, " must be a JSON object"));
  CDH_ASSIGN_OR_RETURN(std::string kid, GetString(packet, "kid", kPacket));
  CDH_ASSIGN_OR_RETURN(std::string wrapped_b64, GetString(packet, "wrapped_data", kPacket));
  CDH_ASSIGN_OR_RETURN(std::string version, OptionalString(packet, "version", "0.1.0"));
  CDH_ASSIGN_OR_RETURN(std::string provider, OptionalString(packet, "provider", "kbs"));
  provider = AsciiToLower(provider);
  CDH_ASSIGN_OR_RETURN(nlohmann::json settings, OptionalObject(packet, "provider_settings"));
  CDH_ASSIGN_OR_RETURN(nlohmann::json annotations, OptionalObject(packet, "annotations"));
  CDH_ASSIGN_OR_RETURN(std::string wrapped, Decode(wrapped_b64, "wrapped_data"));

  // The packet version selects the packet's layout: only 0.1.0 exists, for every provider.
  if (version != "0.1.0") {
    return absl::InvalidArgumentError(
        StrCat(kPacket, ": version `", Sanitize(version, 16), "` not supported, only 0.1.0"));
  }
  if (provider == "kbs") {
    // The v1 packet keeps the KEK's IV and wrap type in fields of its own; the `kbs` KMS
    // provider takes them as annotations.
    CDH_ASSIGN_OR_RETURN(std::string iv_b64, GetString(packet, "iv", kPacket));
    CDH_ASSIGN_OR_RETURN(std::string wrap_type, GetString(packet, "wrap_type", kPacket));
    CDH_RETURN_IF_ERROR(Decode(iv_b64, "iv").status());
    annotations = nlohmann::json{{"iv", iv_b64}, {"wrap_type", wrap_type}};
  }
  CDH_ASSIGN_OR_RETURN(std::unique_ptr<KmsDecryptor> kms, kms_.Create(provider, settings));
  auto key = kms->Decrypt(wrapped, kid, annotations, ctx);
  if (!key.ok()) return Annotate(key.status(), StrCat("unwrapping the layer key with kid `", Sanitize(kid), "`"));
  return key;
}

absl::StatusOr<SecretBytes> KeyUnwrapper::Unwrap(std::string_view input_json, const CallContext& ctx) {
  CDH_ASSIGN_OR_RETURN(SecretBytes key, UnwrapLayerKey(input_json, ctx));
  // {"keyunwrapresults":{"optsdata":[…]}} written by hand so the key bytes go straight into a
  // SecretBytes buffer instead of through a JSON tree or a std::string (std::to_string).
  SecretBytes out;
  out.reserve(48 + 4 * key.size());
  out.Append(std::string_view("{\"keyunwrapresults\":{\"optsdata\":["));
  bool first = true;
  for (uint8_t b : key.Reveal()) {
    if (!first) out.push_back(',');
    first = false;
    char digits[4];
    int n = 0;
    if (b >= 100) digits[n++] = static_cast<char>('0' + b / 100);
    if (b >= 10) digits[n++] = static_cast<char>('0' + b / 10 % 10);
    digits[n++] = static_cast<char>('0' + b % 10);
    out.Append(std::string_view(digits, n));
  }
  out.Append(std::string_view("]}}"));
  return out;
}

}  // namespace cdh::resources
