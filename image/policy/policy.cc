#include "image/policy/policy.h"

#include <set>
#include <utility>

#include "common/base64.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "nlohmann/json.hpp"

namespace cdh::image {
namespace {

using nlohmann::json;

absl::Status Invalid(std::string_view where, std::string_view what) {
  return absl::InvalidArgumentError(StrCat("invalid image policy: ", where, ": ", what));
}

std::string Member(std::string_view where, std::string_view key) {
  return StrCat(where, where.empty() ? "" : ".", key);
}

// Parses `text`, refusing duplicate object members anywhere (containers/image's
// policy_config.go refuses them; nlohmann-json would silently keep the last one).
absl::StatusOr<json> ParseStrictJson(std::string_view text) {
  std::vector<std::optional<std::set<std::string>>> stack;
  std::string duplicate;
  json::parser_callback_t callback = [&](int, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
        stack.emplace_back(std::set<std::string>());
        break;
      case json::parse_event_t::array_start:
        stack.emplace_back(std::nullopt);
        break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        if (!stack.empty()) stack.pop_back();
        break;
      case json::parse_event_t::key:
        if (!stack.empty() && stack.back().has_value() && parsed.is_string()) {
          if (!stack.back()->insert(parsed.get<std::string>()).second && duplicate.empty()) {
            duplicate = parsed.get<std::string>();
          }
        }
        break;
      case json::parse_event_t::value:
        break;
    }
    return true;
  };
  json value = json::parse(text.begin(), text.end(), callback, /*allow_exceptions=*/false);
  if (value.is_discarded()) return Invalid("file", "not valid JSON");
  if (!duplicate.empty()) return Invalid("file", StrCat("duplicate member `", Sanitize(duplicate, 64), "`"));
  return value;
}

absl::Status OnlyMembers(const json& obj, std::string_view where, std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, value] : obj.items()) {
    bool known = false;
    for (std::string_view a : allowed) known = known || key == a;
    if (!known) return Invalid(where, StrCat("unknown member `", Sanitize(key, 64), "`"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> RequiredString(const json& obj, std::string_view where, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end()) return Invalid(where, StrCat("`", key, "` is missing"));
  if (!it->is_string() || it->get<std::string>().empty()) {
    return Invalid(Member(where, key), "must be a non-empty string");
  }
  return it->get<std::string>();
}

// A docker reference in the policy itself (exactReference, exactRepository).
bool HasTagOrDigest(std::string_view ref) {
  if (ref.find('@') != std::string_view::npos) return true;
  size_t slash = ref.rfind('/');
  std::string_view last = slash == std::string_view::npos ? ref : ref.substr(slash + 1);
  return last.find(':') != std::string_view::npos;
}

// remapIdentity prefixes: a host, a host/namespace or a `*.domain` wildcard; never a tag or
// digest (containers/image signature/policy_config.go, validateIdentityRemappingPrefix).
bool ValidRemapPrefix(std::string_view s) {
  if (s.empty() || s.find('@') != std::string_view::npos || HasTagOrDigest(s)) return false;
  if (s.starts_with("*.")) s.remove_prefix(2);
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_' || c == '/' ||
              c == ':' || (c >= 'A' && c <= 'Z');
    if (!ok) return false;
  }
  return !s.empty() && s.front() != '/' && s.back() != '/';
}

absl::StatusOr<SignedIdentity> ParseSignedIdentity(const json& obj, std::string_view where) {
  if (!obj.is_object()) return Invalid(where, "must be an object");
  CDH_ASSIGN_OR_RETURN(std::string type, RequiredString(obj, where, "type"));
  SignedIdentity id;
  if (type == "matchExact" || type == "matchRepoDigestOrExact" || type == "matchRepository") {
    CDH_RETURN_IF_ERROR(OnlyMembers(obj, where, {"type"}));
    id.type = type == "matchExact"               ? SignedIdentity::Type::kMatchExact
              : type == "matchRepoDigestOrExact" ? SignedIdentity::Type::kMatchRepoDigestOrExact
                                                 : SignedIdentity::Type::kMatchRepository;
    return id;
  }
  if (type == "exactReference") {
    CDH_RETURN_IF_ERROR(OnlyMembers(obj, where, {"type", "dockerReference"}));
    CDH_ASSIGN_OR_RETURN(id.docker_reference, RequiredString(obj, where, "dockerReference"));
    if (!HasTagOrDigest(id.docker_reference) || !ImageReference::Parse(id.docker_reference).ok()) {
      return Invalid(Member(where, "dockerReference"), "must be a reference with a tag or digest");
    }
    id.type = SignedIdentity::Type::kExactReference;
    return id;
  }
  if (type == "exactRepository") {
    CDH_RETURN_IF_ERROR(OnlyMembers(obj, where, {"type", "dockerRepository"}));
    CDH_ASSIGN_OR_RETURN(id.docker_repository, RequiredString(obj, where, "dockerRepository"));
    if (HasTagOrDigest(id.docker_repository) || !ImageReference::Parse(id.docker_repository).ok()) {
      return Invalid(Member(where, "dockerRepository"), "must be a repository name without tag or digest");
    }
    id.type = SignedIdentity::Type::kExactRepository;
    return id;
  }
  if (type == "remapIdentity") {
    CDH_RETURN_IF_ERROR(OnlyMembers(obj, where, {"type", "prefix", "signedPrefix"}));
    CDH_ASSIGN_OR_RETURN(id.prefix, RequiredString(obj, where, "prefix"));
    CDH_ASSIGN_OR_RETURN(id.signed_prefix, RequiredString(obj, where, "signedPrefix"));
    if (!ValidRemapPrefix(id.prefix)) return Invalid(Member(where, "prefix"), "is not a host or namespace");
    if (!ValidRemapPrefix(id.signed_prefix)) {
      return Invalid(Member(where, "signedPrefix"), "is not a host or namespace");
    }
    id.type = SignedIdentity::Type::kRemapIdentity;
    return id;
  }
  return Invalid(Member(where, "type"), StrCat("unknown signedIdentity type `", Sanitize(type, 40), "`"));
}

// keyData for sigstoreSigned: PEM text as image-rs takes it, otherwise base64 as
// containers/image encodes []byte.
absl::StatusOr<std::string> DecodeKeyData(const json& value, std::string_view where, bool allow_pem) {
  if (!value.is_string() || value.get<std::string>().empty()) return Invalid(where, "must be a non-empty string");
  std::string text = value.get<std::string>();
  if (allow_pem && text.starts_with("-----BEGIN")) return text;
  auto bytes = Base64StdDecode(text);
  if (!bytes.ok()) {
    return Invalid(where, allow_pem ? "must be PEM text or standard base64 (with padding)"
                                    : "must be standard base64 (with padding)");
  }
  return *bytes;
}

absl::Status ParseKeys(const json& obj, std::string_view where, bool sigstore, PolicyRequirement& req) {
  int sources = 0;
  for (const char* key : {"keyPath", "keyPaths", "keyData", "keyDatas"}) sources += obj.contains(key) ? 1 : 0;
  if (sources != 1) {
    return Invalid(where, sigstore ? "exactly one of `keyPath`, `keyPaths`, `keyData`, `keyDatas` is required"
                                   : "exactly one of `keyPath`, `keyPaths`, `keyData` is required");
  }
  if (auto it = obj.find("keyPath"); it != obj.end()) {
    if (!it->is_string() || it->get<std::string>().empty()) {
      return Invalid(Member(where, "keyPath"), "must be a non-empty string");
    }
    req.keys.push_back({KeySource::Kind::kPath, it->get<std::string>()});
  }
  if (auto it = obj.find("keyPaths"); it != obj.end()) {
    if (!it->is_array() || it->empty()) return Invalid(Member(where, "keyPaths"), "must be a non-empty array");
    for (size_t i = 0; i < it->size(); ++i) {
      const json& p = (*it)[i];
      if (!p.is_string() || p.get<std::string>().empty()) {
        return Invalid(StrCat(Member(where, "keyPaths"), "[", i, "]"), "must be a non-empty string");
      }
      req.keys.push_back({KeySource::Kind::kPath, p.get<std::string>()});
    }
  }
  if (auto it = obj.find("keyData"); it != obj.end()) {
    CDH_ASSIGN_OR_RETURN(std::string data, DecodeKeyData(*it, Member(where, "keyData"), sigstore));
    req.keys.push_back({KeySource::Kind::kData, std::move(data)});
  }
  if (auto it = obj.find("keyDatas"); it != obj.end()) {
    if (!it->is_array() || it->empty()) return Invalid(Member(where, "keyDatas"), "must be a non-empty array");
    for (size_t i = 0; i < it->size(); ++i) {
      CDH_ASSIGN_OR_RETURN(std::string data,
                           DecodeKeyData((*it)[i], StrCat(Member(where, "keyDatas"), "[", i, "]"), sigstore));
      req.keys.push_back({KeySource::Kind::kData, std::move(data)});
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<PolicyRequirement> ParseRequirement(const json& obj, const std::string& where) {
  if (!obj.is_object()) return Invalid(where, "a requirement must be an object");
  CDH_ASSIGN_OR_RETURN(std::string type, RequiredString(obj, where, "type"));
  PolicyRequirement req;
  if (type == "insecureAcceptAnything" || type == "reject") {
    CDH_RETURN_IF_ERROR(OnlyMembers(obj, where, {"type"}));
    req.type = type == "reject" ? PolicyRequirement::Type::kReject : PolicyRequirement::Type::kInsecureAcceptAnything;
    return req;
  }
  if (type == "signedBy") {
    CDH_RETURN_IF_ERROR(
        OnlyMembers(obj, where, {"type", "keyType", "keyPath", "keyPaths", "keyData", "signedIdentity"}));
    CDH_ASSIGN_OR_RETURN(std::string key_type, RequiredString(obj, where, "keyType"));
    if (key_type != "GPGKeys") {
      return Invalid(Member(where, "keyType"),
                     StrCat("`", Sanitize(key_type, 40), "` is not supported (only GPGKeys)"));
    }
    req.type = PolicyRequirement::Type::kSignedBy;
    CDH_RETURN_IF_ERROR(ParseKeys(obj, where, /*sigstore=*/false, req));
  } else if (type == "sigstoreSigned") {
    for (const char* unsupported :
         {"fulcio", "pki", "rekorPublicKeyPath", "rekorPublicKeyPaths", "rekorPublicKeyData", "rekorPublicKeyDatas"}) {
      if (obj.contains(unsupported)) {
        return Invalid(Member(where, unsupported), "is not supported by this verifier (public keys only)");
      }
    }
    CDH_RETURN_IF_ERROR(
        OnlyMembers(obj, where, {"type", "keyPath", "keyPaths", "keyData", "keyDatas", "signedIdentity"}));
    req.type = PolicyRequirement::Type::kSigstoreSigned;
    CDH_RETURN_IF_ERROR(ParseKeys(obj, where, /*sigstore=*/true, req));
  } else if (type == "signedBaseLayer") {
    return Invalid(Member(where, "type"), "`signedBaseLayer` is not supported");
  } else {
    return Invalid(Member(where, "type"), StrCat("unknown requirement type `", Sanitize(type, 40), "`"));
  }
  if (auto it = obj.find("signedIdentity"); it != obj.end()) {
    CDH_ASSIGN_OR_RETURN(SignedIdentity id, ParseSignedIdentity(*it, Member(where, "signedIdentity")));
    req.signed_identity = std::move(id);
  }
  return req;
}

absl::StatusOr<PolicyRequirements> ParseRequirements(const json& list, const std::string& where) {
  if (!list.is_array()) return Invalid(where, "must be an array of requirements");
  if (list.empty()) return Invalid(where, "must not be empty (an empty list would accept anything)");
  PolicyRequirements out;
  for (size_t i = 0; i < list.size(); ++i) {
    CDH_ASSIGN_OR_RETURN(PolicyRequirement req, ParseRequirement(list[i], StrCat(where, "[", i, "]")));
    out.push_back(std::move(req));
  }
  return out;
}

std::string ScopeWhere(std::string_view transport, std::string_view scope) {
  return StrCat("transports.", Sanitize(transport, 40), "[\"", Sanitize(scope, 128), "\"]");
}

}  // namespace

std::string_view SignedIdentity::TypeName() const {
  switch (type) {
    case Type::kMatchExact:
      return "matchExact";
    case Type::kMatchRepoDigestOrExact:
      return "matchRepoDigestOrExact";
    case Type::kMatchRepository:
      return "matchRepository";
    case Type::kExactReference:
      return "exactReference";
    case Type::kExactRepository:
      return "exactRepository";
    case Type::kRemapIdentity:
      return "remapIdentity";
  }
  return "unknown";
}

std::string_view PolicyRequirement::TypeName() const {
  switch (type) {
    case Type::kInsecureAcceptAnything:
      return "insecureAcceptAnything";
    case Type::kReject:
      return "reject";
    case Type::kSignedBy:
      return "signedBy";
    case Type::kSigstoreSigned:
      return "sigstoreSigned";
  }
  return "unknown";
}

absl::StatusOr<Policy> Policy::Parse(std::string_view text) {
  if (text.size() > kMaxPolicySize) {
    return Invalid("file", StrCat("larger than ", kMaxPolicySize, " bytes"));
  }
  CDH_ASSIGN_OR_RETURN(json root, ParseStrictJson(text));
  if (!root.is_object()) return Invalid("file", "must be a JSON object");
  CDH_RETURN_IF_ERROR(OnlyMembers(root, "file", {"default", "transports"}));
  if (!root.contains("default")) return Invalid("file", "`default` is missing");
  Policy policy;
  CDH_ASSIGN_OR_RETURN(policy.default_, ParseRequirements(root["default"], "default"));
  if (auto it = root.find("transports"); it != root.end()) {
    if (!it->is_object()) return Invalid("transports", "must be an object");
    for (const auto& [transport, scopes] : it->items()) {
      if (transport.empty()) return Invalid("transports", "empty transport name");
      if (!scopes.is_object()) return Invalid(StrCat("transports.", Sanitize(transport, 40)), "must be an object");
      for (const auto& [scope, list] : scopes.items()) {
        // Other transports' scopes are validated like docker's but never consulted: an image
        // pull only ever uses the docker transport.
        CDH_ASSIGN_OR_RETURN(PolicyRequirements reqs, ParseRequirements(list, ScopeWhere(transport, scope)));
        if (transport == "docker") {
          if (scope.starts_with("*.") && (scope.size() == 2 || scope.find_first_of("/:@", 2) != std::string::npos)) {
            return Invalid(ScopeWhere(transport, scope), "a wildcard scope must be `*.` followed by a domain");
          }
          policy.docker_.emplace(scope, std::move(reqs));
        }
      }
    }
  }
  return policy;
}

std::string Policy::PolicyIdentity(const ImageReference& image) {
  if (image.digest().has_value()) return StrCat(image.Name(), "@", image.digest()->String());
  return StrCat(image.Name(), ":", image.tag().empty() ? std::string("latest") : image.tag());
}

std::vector<std::string> Policy::ScopeCandidates(const ImageReference& image) {
  std::vector<std::string> out = {PolicyIdentity(image)};
  std::string name = image.Name();
  for (;;) {
    out.push_back(name);
    size_t slash = name.rfind('/');
    if (slash == std::string::npos) break;
    name.resize(slash);
  }
  // `name` is now host[:port]; wildcards use the host without its port.
  std::string host = name.substr(0, name.find(':'));
  for (size_t dot = host.find('.'); dot != std::string::npos; dot = host.find('.')) {
    host = host.substr(dot + 1);
    out.push_back(StrCat("*.", host));
  }
  return out;
}

Policy::Selection Policy::RequirementsFor(const ImageReference& image) const {
  for (const std::string& candidate : ScopeCandidates(image)) {
    if (auto it = docker_.find(candidate); it != docker_.end()) return {candidate, &it->second};
  }
  if (auto it = docker_.find(""); it != docker_.end()) return {"", &it->second};
  return {"default", &default_};
}

}  // namespace cdh::image
