// InMemoryRegistry: a RegistryClient over in-memory manifests and blobs, for unit tests of the
// signature verifiers (a fake shipped as code, not a mock). It reproduces the observable
// behaviour the interface documents (image/registry_client.h): NOT_FOUND for an unknown tag,
// digest or blob; manifests fetched by digest and blobs are digest-checked (DATA_LOSS, so a test
// can store corrupt bytes under a digest with PutRawBlob); RESOURCE_EXHAUSTED beyond max_bytes;
// a status set with FailWith is returned by every call (e.g. UNAVAILABLE). Repositories are keyed
// by ImageReference::Name(). Thread-safe; neither copyable nor movable.
#ifndef CDH_IMAGE_POLICY_TESTING_IN_MEMORY_REGISTRY_H_
#define CDH_IMAGE_POLICY_TESTING_IN_MEMORY_REGISTRY_H_

#include <map>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/strings.h"
#include "image/registry_client.h"

namespace cdh::image::testing {

class InMemoryRegistry : public RegistryClient {
 public:
  // Stores `bytes` as a manifest of repository `name`, reachable by its digest and by `tag`
  // (when not empty). Returns the digest.
  Digest PutManifest(const std::string& name, const std::string& tag, const std::string& bytes,
                     const std::string& media_type = "application/vnd.oci.image.manifest.v1+json") {
    Digest d = Digest::Sha256Of(bytes);
    absl::MutexLock lock(&mu_);
    manifests_[{name, d.String()}] = {bytes, media_type, d};
    if (!tag.empty()) manifests_[{name, tag}] = {bytes, media_type, d};
    return d;
  }
  Digest PutBlob(const std::string& bytes) {
    Digest d = Digest::Sha256Of(bytes);
    PutRawBlob(d, bytes);
    return d;
  }
  // Stores `bytes` under `digest` whether or not they match (a corrupt registry).
  void PutRawBlob(const Digest& digest, const std::string& bytes) {
    absl::MutexLock lock(&mu_);
    blobs_[digest.String()] = bytes;
  }
  void FailWith(absl::Status status) {
    absl::MutexLock lock(&mu_);
    failure_ = std::move(status);
  }
  int manifest_gets() const {
    absl::MutexLock lock(&mu_);
    return manifest_gets_;
  }

  absl::StatusOr<FetchedManifest> GetManifest(const ImageReference& repo, std::string_view tag_or_digest,
                                              const CallContext&) override {
    absl::MutexLock lock(&mu_);
    ++manifest_gets_;
    if (!failure_.ok()) return failure_;
    auto it = manifests_.find({repo.Name(), std::string(tag_or_digest)});
    if (it == manifests_.end())
      return absl::NotFoundError(StrCat("manifest unknown: ", repo.Name(), ":", tag_or_digest));
    return it->second;
  }

  absl::StatusOr<std::string> GetBlob(const ImageReference&, const Digest& digest, int64_t max_bytes,
                                      const CallContext&) override {
    absl::MutexLock lock(&mu_);
    if (!failure_.ok()) return failure_;
    auto it = blobs_.find(digest.String());
    if (it == blobs_.end()) return absl::NotFoundError(StrCat("blob unknown: ", digest.String()));
    if (static_cast<int64_t>(it->second.size()) > max_bytes) return absl::ResourceExhaustedError("blob too large");
    if (!digest.Matches(it->second))
      return absl::DataLossError(StrCat("blob ", digest.String(), " does not match its digest"));
    return it->second;
  }

 private:
  mutable absl::Mutex mu_;
  std::map<std::pair<std::string, std::string>, FetchedManifest> manifests_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> blobs_ ABSL_GUARDED_BY(mu_);
  absl::Status failure_ ABSL_GUARDED_BY(mu_);
  int manifest_gets_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace cdh::image::testing

#endif  // CDH_IMAGE_POLICY_TESTING_IN_MEMORY_REGISTRY_H_
