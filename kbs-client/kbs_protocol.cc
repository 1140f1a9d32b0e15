#include "kbs-client/kbs_protocol.h"

#include "common/base64.h"
#include "common/json.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "kbs-client/canonical_json.h"

namespace cdh::kbs {
namespace {

using OrderedJson = nlohmann::ordered_json;

std::string Dump(const OrderedJson& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

absl::StatusOr<std::optional<int64_t>> IntClaim(const nlohmann::json& claims, const char* name) {
  auto it = claims.find(name);
  if (it == claims.end() || it->is_null()) return std::optional<int64_t>();
  if (it->is_number_integer()) return std::optional<int64_t>(it->get<int64_t>());
  if (it->is_number_unsigned() && it->get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX)) {
    return std::optional<int64_t>(static_cast<int64_t>(it->get<uint64_t>()));
  }
  return absl::InvalidArgumentError(StrCat("token claim `", name, "` must be an integer (seconds)"));
}

}  // namespace

absl::StatusOr<nlohmann::json> ParseProtocolJson(std::string_view text, std::string_view what) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) return absl::InvalidArgumentError(StrCat(what, " is nested too deeply"));
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return ParseJson(text, what);
}

std::string BuildAuthRequest(std::string_view tee) {
  OrderedJson req;
  req["version"] = std::string(kProtocolVersion);
  req["tee"] = std::string(tee);
  req["extra-params"]["supported-hash-algorithms"] = {"sha256", "sha384", "sha512"};
  return Dump(req);
}

absl::StatusOr<Challenge> ParseChallenge(std::string_view body) {
  CDH_ASSIGN_OR_RETURN(nlohmann::json j, ParseProtocolJson(body, "KBS challenge"));
  Challenge c;
  CDH_ASSIGN_OR_RETURN(c.nonce, GetString(j, "nonce", "KBS challenge"));
  if (c.nonce.empty()) return absl::InvalidArgumentError("KBS challenge: empty nonce");
  auto extra = j.find("extra-params");
  if (extra != j.end() && extra->is_object()) {
    auto sel = extra->find("selected-hash-algorithm");
    if (sel != extra->end()) {
      if (!sel->is_string()) {
        return absl::InvalidArgumentError("KBS challenge: `selected-hash-algorithm` must be a string");
      }
      auto alg = crypto::ParseHashAlgorithm(sel->get<std::string>());
      if (!alg.ok()) {
        return absl::UnimplementedError(StrCat("KBS challenge selects a hash algorithm this client does not support: ",
                                               ToStd(alg.status().message())));
      }
      c.hash = *alg;
    }
  }
  return c;
}

absl::StatusOr<std::string> CanonicalRuntimeData(std::string_view nonce, const nlohmann::json& tee_pubkey,
                                                 std::string_view additional_evidence) {
  nlohmann::json rd = {{"tee-pubkey", tee_pubkey},
                       {"nonce", std::string(nonce)},
                       {"additional-evidence", std::string(additional_evidence)}};
  return CanonicalJson(rd);
}

absl::StatusOr<std::string> RuntimeDataDigest(crypto::HashAlgorithm hash, std::string_view nonce,
                                              const nlohmann::json& tee_pubkey, std::string_view additional_evidence) {
  CDH_ASSIGN_OR_RETURN(std::string canonical, CanonicalRuntimeData(nonce, tee_pubkey, additional_evidence));
  return crypto::Hash(hash, canonical);
}

std::string BuildAttestRequest(const AttestRequest& r) {
  OrderedJson body;
  body["init-data"] = OrderedJson(r.init_data);
  body["runtime-data"]["nonce"] = r.nonce;
  // JWK members in the order the Rust client emits them (kty first); the KBS re-serialises anyway.
  OrderedJson jwk;
  for (const char* k : {"kty", "crv", "alg", "n", "e", "x", "y"}) {
    if (r.tee_pubkey.contains(k)) jwk[k] = OrderedJson(r.tee_pubkey[k]);
  }
  body["runtime-data"]["tee-pubkey"] = jwk;
  body["tee-evidence"]["primary_evidence"] = OrderedJson(r.primary_evidence);
  body["tee-evidence"]["additional_evidence"] = r.additional_evidence;
  return Dump(body);
}

absl::StatusOr<SecretBytes> ParseAttestResponse(std::string_view body) {
  CDH_ASSIGN_OR_RETURN(nlohmann::json j, ParseProtocolJson(body, "KBS attestation response"));
  auto it = j.find("token");
  if (it == j.end() || !it->is_string()) {
    return absl::InvalidArgumentError("KBS attestation response: `token` must be a string");
  }
  // The JSON library's copy of the token is wiped as it is taken.
  SecretBytes token = SecretBytes::TakeString(it->get_ref<std::string&>());
  if (token.empty()) return absl::InvalidArgumentError("KBS attestation response: empty token");
  return token;
}

absl::StatusOr<TokenClaims> ParseTokenClaims(std::string_view token) {
  std::vector<std::string_view> parts = StrSplit(token, '.');
  if (parts.size() != 3) return absl::InvalidArgumentError("attestation token is not a compact JWT");
  auto payload = Base64UrlDecode(parts[1]);
  if (!payload.ok()) return absl::InvalidArgumentError("attestation token claims are not base64url");
  CDH_ASSIGN_OR_RETURN(nlohmann::json claims, ParseProtocolJson(*payload, "attestation token claims"));
  if (!claims.is_object()) return absl::InvalidArgumentError("attestation token claims must be a JSON object");
  TokenClaims c;
  CDH_ASSIGN_OR_RETURN(c.exp, IntClaim(claims, "exp"));
  CDH_ASSIGN_OR_RETURN(c.nbf, IntClaim(claims, "nbf"));
  CDH_ASSIGN_OR_RETURN(c.iat, IntClaim(claims, "iat"));
  return c;
}

std::optional<Problem> ParseProblem(std::string_view body) {
  auto j = ParseProtocolJson(body, "problem");
  if (!j.ok() || !j->is_object()) return std::nullopt;
  auto type = j->find("type");
  if (type == j->end() || !type->is_string()) return std::nullopt;
  Problem p;
  std::string t = type->get<std::string>();
  p.type = t.starts_with(kErrorTypePrefix) ? t.substr(kErrorTypePrefix.size()) : t;
  auto detail = j->find("detail");
  if (detail != j->end() && detail->is_string()) p.detail = detail->get<std::string>().substr(0, kMaxProblemDetail);
  return p;
}

}  // namespace cdh::kbs
