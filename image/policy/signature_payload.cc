#include "image/policy/signature_payload.h"

#include <optional>

#include "common/json.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace cdh::image {
namespace {

using nlohmann::json;

absl::Status Bad(std::string_view what) { return absl::InvalidArgumentError(StrCat("signature payload: ", what)); }

absl::StatusOr<const json*> ExactObject(const json& parent, const char* key,
                                        std::initializer_list<const char*> members) {
  auto it = parent.find(key);
  if (it == parent.end() || !it->is_object()) return Bad(StrCat("`", key, "` must be an object"));
  for (const auto& [name, value] : it->items()) {
    bool known = false;
    for (const char* m : members) known = known || name == m;
    if (!known) return Bad(StrCat("unexpected member `", Sanitize(name, 40), "` in `", key, "`"));
  }
  for (const char* m : members) {
    if (!it->contains(m)) return Bad(StrCat("`", key, ".", m, "` is missing"));
  }
  return &*it;
}

absl::StatusOr<std::string> StringMember(const json& obj, const char* where, const char* key) {
  const json& v = obj[key];
  if (!v.is_string()) return Bad(StrCat("`", where, ".", key, "` must be a string"));
  return v.get<std::string>();
}

// A docker reference as signed: the parsed (normalised) reference, and whether it was written
// without tag and digest (the parser would otherwise add `latest`).
struct SignedReference {
  ImageReference ref;
  bool name_only = false;
};

std::optional<SignedReference> ParseSigned(std::string_view text) {
  auto ref = ImageReference::Parse(text);
  if (!ref.ok()) return std::nullopt;
  bool has_digest = text.find('@') != std::string_view::npos;
  size_t slash = text.rfind('/');
  std::string_view last = slash == std::string_view::npos ? text : text.substr(slash + 1);
  bool has_tag = last.find(':') != std::string_view::npos && (!has_digest || last.find(':') < last.find('@'));
  return SignedReference{*std::move(ref), !has_digest && !has_tag};
}

void Why(std::string* why, std::string text) {
  if (why != nullptr) *why = std::move(text);
}

// containers/image prmMatchRepoDigestOrExact.matchesDockerReference, with `intended` given as
// its String() form and whether it has a tag.
bool RepoDigestOrExact(const ImageReference& intended, const SignedReference& sig, std::string* why) {
  if (sig.name_only) {
    Why(why, "the signed reference has neither tag nor digest");
    return false;
  }
  if (!intended.tag().empty()) {
    if (sig.ref.String() == intended.String()) return true;
    Why(why, StrCat("signed for `", Sanitize(sig.ref.String()), "`, not `", intended.String(), "`"));
    return false;
  }
  if (sig.ref.Name() == intended.Name()) return true;
  Why(why, StrCat("signed for repository `", Sanitize(sig.ref.Name()), "`, not `", intended.Name(), "`"));
  return false;
}

// containers/image refMatchesPrefix: the prefix must end at a host or path-segment boundary.
bool RefMatchesPrefix(std::string_view ref, std::string_view prefix) {
  if (ref.size() < prefix.size() || !ref.starts_with(prefix)) return false;
  if (ref.size() == prefix.size()) return true;
  char c = ref[prefix.size()];
  return c == ':' || c == '/' || c == '@';
}

}  // namespace

absl::StatusOr<SignaturePayload> ParseSignaturePayload(std::string_view text) {
  if (text.size() > kMaxSignaturePayloadSize) return Bad(StrCat("larger than ", kMaxSignaturePayloadSize, " bytes"));
  CDH_ASSIGN_OR_RETURN(json root, ParseJson(text, "signature payload"));
  if (!root.is_object()) return Bad("must be a JSON object");
  for (const auto& [name, value] : root.items()) {
    if (name != "critical" && name != "optional") return Bad(StrCat("unexpected member `", Sanitize(name, 40), "`"));
  }
  CDH_ASSIGN_OR_RETURN(const json* critical, ExactObject(root, "critical", {"type", "image", "identity"}));
  CDH_ASSIGN_OR_RETURN(const json* image, ExactObject(*critical, "image", {"docker-manifest-digest"}));
  CDH_ASSIGN_OR_RETURN(const json* identity, ExactObject(*critical, "identity", {"docker-reference"}));
  SignaturePayload out;
  CDH_ASSIGN_OR_RETURN(out.type, StringMember(*critical, "critical", "type"));
  CDH_ASSIGN_OR_RETURN(out.manifest_digest, StringMember(*image, "critical.image", "docker-manifest-digest"));
  CDH_ASSIGN_OR_RETURN(out.docker_reference, StringMember(*identity, "critical.identity", "docker-reference"));
  return out;
}

bool IdentityMatches(const SignedIdentity& identity, const ImageReference& image, std::string_view signed_reference,
                     std::string* why) {
  std::optional<SignedReference> sig = ParseSigned(signed_reference);
  if (!sig.has_value()) {
    Why(why, StrCat("the signed reference `", Sanitize(signed_reference), "` is not a valid reference"));
    return false;
  }
  switch (identity.type) {
    case SignedIdentity::Type::kMatchExact:
      if (!sig->name_only && sig->ref.String() == image.String()) return true;
      Why(why, StrCat("signed for `", Sanitize(signed_reference), "`, not exactly `", image.String(), "`"));
      return false;
    case SignedIdentity::Type::kMatchRepoDigestOrExact:
      return RepoDigestOrExact(image, *sig, why);
    case SignedIdentity::Type::kMatchRepository:
      if (sig->ref.Name() == image.Name()) return true;
      Why(why, StrCat("signed for repository `", Sanitize(sig->ref.Name()), "`, not `", image.Name(), "`"));
      return false;
    case SignedIdentity::Type::kExactReference: {
      auto want = ImageReference::Parse(identity.docker_reference);
      if (want.ok() && !sig->name_only && sig->ref.String() == want->String()) return true;
      Why(why, StrCat("signed for `", Sanitize(signed_reference), "`, the policy requires `",
                      Sanitize(identity.docker_reference), "`"));
      return false;
    }
    case SignedIdentity::Type::kExactRepository: {
      auto want = ImageReference::Parse(identity.docker_repository);
      if (want.ok() && sig->ref.Name() == want->Name()) return true;
      Why(why, StrCat("signed for repository `", Sanitize(sig->ref.Name()), "`, the policy requires `",
                      Sanitize(identity.docker_repository), "`"));
      return false;
    }
    case SignedIdentity::Type::kRemapIdentity: {
      std::string intended = image.String();
      if (RefMatchesPrefix(intended, identity.prefix)) {
        auto remapped = ImageReference::Parse(StrCat(identity.signed_prefix, intended.substr(identity.prefix.size())));
        if (!remapped.ok()) {
          Why(why, "the remapped reference is not valid");
          return false;
        }
        return RepoDigestOrExact(*remapped, *sig, why);
      }
      return RepoDigestOrExact(image, *sig, why);
    }
  }
  return false;
}

}  // namespace cdh::image
