// FakeResourceProvider: an in-memory ResourceProvider for tests (a fake shipped as library code,
// as tink ships FakeKmsClient). Resources are keyed by ResourcePath() ("repo/type/tag"); a missing key
// answers NOT_FOUND; `FailWith` makes every call return a given status; a call whose caller has
// departed (CallContext::cancellation fired) answers CANCELLED, as the broker client does. Counts
// calls.
// Thread-safe.
#ifndef CDH_RESOURCES_FAKE_RESOURCE_PROVIDER_H_
#define CDH_RESOURCES_FAKE_RESOURCE_PROVIDER_H_

#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/strings.h"
#include "resources/resource_provider.h"

namespace cdh::resources {

class FakeResourceProvider : public ResourceProvider {
 public:
  void Put(const std::string& path, std::string_view bytes) {
    absl::MutexLock lock(&mu_);
    resources_[path] = std::string(bytes);
  }
  void FailWith(absl::Status status) {
    absl::MutexLock lock(&mu_);
    failure_ = std::move(status);
  }
  int calls() const {
    absl::MutexLock lock(&mu_);
    return calls_;
  }

  absl::StatusOr<SecretBytes> GetResource(const ResourceUri& uri, const CallContext& ctx) override {
    absl::MutexLock lock(&mu_);
    ++calls_;
    if (ctx.Cancelled()) return absl::CancelledError("fake: the caller departed");
    if (!failure_.ok()) return failure_;
    auto it = resources_.find(uri.ResourcePath());
    if (it == resources_.end()) return absl::NotFoundError(StrCat("fake: resource not found: ", uri.ToString()));
    return SecretBytes::FromString(it->second);
  }
  std::string_view name() const override { return "fake"; }

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, std::string> resources_ ABSL_GUARDED_BY(mu_);
  absl::Status failure_ ABSL_GUARDED_BY(mu_);
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace cdh::resources

#endif  // CDH_RESOURCES_FAKE_RESOURCE_PROVIDER_H_
