// AuthorityGuard: wraps the configured ResourceProvider and makes field case S4 visible: a
// resource URI that names a host (`kbs://host:port/...`) is still answered by the configured
// broker — the host is never contacted — and a warning says so, wherever the URI came from
// (GetResource, a sealed secret's `kid` or vault `name`, a KEK id, an UnWrapKey `kid`).
// Thread-safe (the wrapped provider is); owns it.
#ifndef CDH_HUB_AUTHORITY_GUARD_H_
#define CDH_HUB_AUTHORITY_GUARD_H_

#include <memory>

#include <spdlog/spdlog.h>

#include "resources/resource_provider.h"

namespace cdh {

class AuthorityGuard : public resources::ResourceProvider {
 public:
  explicit AuthorityGuard(std::unique_ptr<resources::ResourceProvider> inner) : inner_(std::move(inner)) {}
  absl::StatusOr<SecretBytes> GetResource(const resources::ResourceUri& uri, const CallContext& ctx) override {
    if (!uri.authority().empty()) {
      spdlog::warn("resource URI names host `{}`; the configured broker is used instead", uri.authority());
    }
    return inner_->GetResource(uri, ctx);
  }
  std::string_view name() const override { return inner_->name(); }

 private:
  const std::unique_ptr<resources::ResourceProvider> inner_;
};

}  // namespace cdh

#endif  // CDH_HUB_AUTHORITY_GUARD_H_
