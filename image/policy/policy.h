// Policy: a containers-policy.json signature policy, parsed once into typed requirements
// (containers/image, docs/containers-policy.json.5.md and signature/policy_config.go; the CoCo
// extension — a `keyPath` that is a `kbs:///` resource URI — from guest-components image-rs,
// signature/policy/*).
//
// Parsing is strict, as containers/image's: `default` is mandatory; unknown or duplicate members
// invalidate the file; every requirement list is non-empty; each requirement has exactly the
// members its type allows. Where image-rs is more lenient (an empty list accepting the image,
// `transports` mandatory, unknown members ignored) this follows containers/image. Members that
// name features this verifier does not implement (`fulcio`, `pki`, `rekorPublicKey*`,
// `signedBaseLayer`, a `keyType` other than `GPGKeys`) are refused at parse time instead of being
// ignored, so a policy never silently checks less than it says.
//
// Scope selection (RequirementsFor) is containers/image's (docker/policyconfiguration/naming.go,
// signature/policy_eval.go): the full reference, the repository and each parent namespace down
// to host[:port], wildcard `*.domain` scopes from the host without its port, the transport's ""
// scope, then `default`; only the first match applies. Only the `docker` transport is consulted.
//
// Copyable value type; thread-compatible (immutable after Parse).
#ifndef CDH_IMAGE_POLICY_POLICY_H_
#define CDH_IMAGE_POLICY_POLICY_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "image/reference.h"

namespace cdh::image {

// `signedIdentity` (containers-policy.json.5.md, "signedIdentity"): how the docker reference in
// a signature's payload must relate to the image's reference.
struct SignedIdentity {
  enum class Type {
    kMatchExact,
    kMatchRepoDigestOrExact,
    kMatchRepository,
    kExactReference,   // docker_reference
    kExactRepository,  // docker_repository
    kRemapIdentity,    // prefix, signed_prefix
  };
  Type type = Type::kMatchRepoDigestOrExact;
  std::string docker_reference;
  std::string docker_repository;
  std::string prefix;
  std::string signed_prefix;

  // The policy's spelling of the type ("matchRepoDigestOrExact", ...).
  std::string_view TypeName() const;
};

// Where a public key comes from: `keyPath`/`keyPaths` (a path, `file://` URL or `kbs:///`
// resource URI, resolved when the requirement is evaluated) or `keyData`/`keyDatas` (the key
// bytes themselves, already decoded).
struct KeySource {
  enum class Kind { kPath, kData };
  Kind kind = Kind::kPath;
  std::string value;
};

struct PolicyRequirement {
  enum class Type { kInsecureAcceptAnything, kReject, kSignedBy, kSigstoreSigned };
  Type type = Type::kReject;
  // signedBy / sigstoreSigned: one or more keys, any of which may sign.
  std::vector<KeySource> keys;
  // signedBy / sigstoreSigned: absent when the policy has no `signedIdentity` member (the
  // default then depends on the type; see PolicyEvaluator).
  std::optional<SignedIdentity> signed_identity;

  // The policy's spelling of the type ("sigstoreSigned", ...).
  std::string_view TypeName() const;
};

using PolicyRequirements = std::vector<PolicyRequirement>;

class Policy {
 public:
  // Largest policy file accepted, in bytes.
  static constexpr size_t kMaxPolicySize = 1 << 20;

  // INVALID_ARGUMENT "invalid image policy: <where>: <what>" naming the JSON path of the first
  // problem (e.g. `transports.docker["quay.io"][0].keyPath`); the message never quotes key data.
  static absl::StatusOr<Policy> Parse(std::string_view json);

  // The requirement list that applies to `image` and the scope that selected it ("default",
  // "" for the docker transport default, or the matching scope string).
  struct Selection {
    std::string scope;
    const PolicyRequirements* requirements = nullptr;
  };
  Selection RequirementsFor(const ImageReference& image) const;

  // Candidate scopes for `image`, most specific first, as containers/image tries them (without
  // "" and "default").
  static std::vector<std::string> ScopeCandidates(const ImageReference& image);
  // The identity scopes are matched against: "<registry>/<repository>" plus ":<tag>", or
  // "@<digest>" when the reference has a digest (the digest is what is fetched).
  static std::string PolicyIdentity(const ImageReference& image);

  const PolicyRequirements& default_requirements() const { return default_; }
  // transports.docker: scope → requirements.
  const std::map<std::string, PolicyRequirements>& docker_scopes() const { return docker_; }

 private:
  PolicyRequirements default_;
  std::map<std::string, PolicyRequirements> docker_;
};

}  // namespace cdh::image

#endif  // CDH_IMAGE_POLICY_POLICY_H_
