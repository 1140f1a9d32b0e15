// PolicyEvaluator: the ImageVerifier that enforces a containers-policy.json signature policy on
// every image pull (containers/image signature/policy_eval.go; CoCo's use of it in
// guest-components image-rs, signature/mod.rs).
//
// Verify() selects the requirement list for the image the caller asked for (Policy, scope
// rules), then requires every requirement of it to pass:
//   insecureAcceptAnything  passes;
//   reject                  fails;
//   sigstoreSigned          SigstoreVerifier with the requirement's keys (keyPath may be a
//                           `kbs:///` URI: resolved through the KeyResolver, then cached);
//   signedBy                GPG simple signing: signatures from the lookaside given by the
//                           sigstore config (registries.d YAML; `file://` URLs, and
//                           http(s) when an HTTP client is given), verified with
//                           a throw-away keyring (GpgKeyring); the default signedIdentity is
//                           matchRepoDigestOrExact.
// Signatures are accepted over the platform manifest digest that is pulled or over the digest of
// the index that the requested tag or digest resolves to, when that index lists the platform
// manifest (containers/image accepts both; image-rs only the platform digest for signedBy).
// Identities are checked against the caller's reference, never a mirror's.
//
// Without a policy (NewWithoutPolicy) every image is accepted and no signature is fetched, as
// upstream does. The evaluator does not log which policy is in force: its owner logs Describe()
// once, when it makes the evaluator (the daemon: on the first pull).
//
// Codes of Verify: OK allowed; PERMISSION_DENIED "Image policy rejected: Denied by policy: …"
// naming the image, the requirement type, the scope that selected it and the reason (the
// upstream prefix, which kata's CI greps for); UNAVAILABLE / DEADLINE_EXCEEDED /
// UNAUTHENTICATED while fetching signatures or keys; FAILED_PRECONDITION GnuPG missing for a
// signedBy requirement; a key that cannot be fetched or parsed: its code, naming the key path.
// Codes of New: INVALID_ARGUMENT for a policy or sigstore config that does not parse.
//
// Thread-safe (concurrent Verify calls share only the key cache, which is locked); neither
// copyable nor movable. A KeyResolver passed by reference must outlive it.
#ifndef CDH_IMAGE_POLICY_POLICY_EVALUATOR_H_
#define CDH_IMAGE_POLICY_POLICY_EVALUATOR_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/call_context.h"
#include "http/http_client.h"
#include "image/image_verifier.h"
#include "image/policy/key_resolver.h"
#include "image/policy/lookaside_config.h"
#include "image/policy/policy.h"

namespace cdh::image {

struct PolicyEvaluatorOptions {
  // registries.d-style YAML naming signature lookasides for signedBy (`[image]
  // sigstore_config(_uri)`); empty when not configured.
  std::string sigstore_config_yaml;
  // Where throw-away GNUPGHOME directories are made; empty: the system temporary directory.
  std::string gnupg_parent_dir;
  // For `http://` / `https://` lookasides (containers/image reads them; image-rs only file://).
  // Not owned; must outlive the evaluator. Null: only `file://` lookasides are read.
  http::HttpClient* lookaside_http = nullptr;
};

class PolicyEvaluator : public ImageVerifier {
 public:
  static absl::StatusOr<std::unique_ptr<PolicyEvaluator>> New(std::string_view policy_json, KeyResolver& keys,
                                                              PolicyEvaluatorOptions options = {});
  // The same, owning its key resolver (for composition roots that build it on the spot).
  static absl::StatusOr<std::unique_ptr<PolicyEvaluator>> New(std::string_view policy_json,
                                                              std::unique_ptr<KeyResolver> keys,
                                                              PolicyEvaluatorOptions options = {});
  // Accepts every image (no policy configured).
  static std::unique_ptr<PolicyEvaluator> NewWithoutPolicy();

  PolicyEvaluator(const PolicyEvaluator&) = delete;
  PolicyEvaluator& operator=(const PolicyEvaluator&) = delete;

  absl::Status Verify(const ImageReference& requested, const Digest& manifest_digest, RegistryClient& registry,
                      const CallContext& ctx) override;

  // One line describing the policy in force, for the log ("no policy: every image is accepted",
  // or the scopes and default requirement types).
  std::string Describe() const;

 private:
  PolicyEvaluator(std::optional<Policy> policy, KeyResolver* keys, LookasideConfig lookaside,
                  PolicyEvaluatorOptions options);

  absl::Status Evaluate(const PolicyRequirement& req, const ImageReference& image, const Digest& manifest_digest,
                        RegistryClient& registry, const CallContext& ctx, std::vector<Digest>& candidates);
  absl::StatusOr<std::vector<Digest>> CandidateDigests(const ImageReference& image, const Digest& manifest_digest,
                                                       RegistryClient& registry, const CallContext& ctx);
  absl::StatusOr<std::string> KeyBytes(const KeySource& source, const CallContext& ctx);
  // One lookaside signature: its bytes, or nullopt when there is no such file (the end of the
  // signature-<n> sequence).
  absl::StatusOr<std::optional<std::string>> ReadLookaside(const std::string& url, const CallContext& ctx);
  absl::Status VerifySignedBy(const PolicyRequirement& req, const ImageReference& image,
                              const std::vector<Digest>& candidates, const CallContext& ctx);

  const std::optional<Policy> policy_;
  std::unique_ptr<KeyResolver> owned_keys_;  // set by the owning New
  KeyResolver* keys_;                        // null without a policy
  const LookasideConfig lookaside_;
  const PolicyEvaluatorOptions options_;

  absl::Mutex mu_;
  std::map<std::string, std::string> key_cache_ ABSL_GUARDED_BY(mu_);  // key path → key bytes
};

}  // namespace cdh::image

#endif  // CDH_IMAGE_POLICY_POLICY_EVALUATOR_H_
