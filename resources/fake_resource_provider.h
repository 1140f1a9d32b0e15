// FakeResourceProvider: an in-memory ResourceProvider for tests (a fake shipped as library code,
// ../shared/STYLE.md). Resources are keyed by ResourcePath() ("repo/type/tag"); a missing key
// answers NOT_FOUND; `FailWith` makes every call return a given status. Counts calls.
// Thread-safe.
#ifndef CDH_RESOURCES_FAKE_RESOURCE_PROVIDER_H_
#define CDH_RESOURCES_FAKE_RESOURCE_PROVIDER_H_

#include <atomic>
#include <map>
#include <mutex>
#include <string>

#include "common/strings.h"
#include "resources/resource_provider.h"

namespace cdh::resources {

class FakeResourceProvider : public ResourceProvider {
 public:
  void Put(const std::string& path, std::string_view bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    resources_[path] = std::string(bytes);
  }
  void FailWith(absl::Status status) {
    std::lock_guard<std::mutex> lock(mu_);
    failure_ = std::move(status);
  }
  int calls() const { return calls_.load(); }

  absl::StatusOr<SecretBytes> GetResource(const ResourceUri& uri, const CallContext&) override {
    ++calls_;
    std::lock_guard<std::mutex> lock(mu_);
    if (!failure_.ok()) return failure_;
    auto it = resources_.find(uri.ResourcePath());
    if (it == resources_.end()) return absl::NotFoundError(StrCat("fake: resource not found: ", uri.ToString()));
    return SecretBytes::FromString(it->second);
  }
  std::string_view name() const override { return "fake"; }

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::string> resources_;
  absl::Status failure_;
  std::atomic<int> calls_{0};
};

}  // namespace cdh::resources

#endif  // CDH_RESOURCES_FAKE_RESOURCE_PROVIDER_H_
