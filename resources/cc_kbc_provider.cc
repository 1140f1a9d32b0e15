#include "resources/cc_kbc_provider.h"

#include "common/status_macros.h"

namespace cdh::resources {

absl::StatusOr<SecretBytes> CcKbcProvider::GetResource(const ResourceUri& uri, const CallContext& ctx) {
  // uri.authority() is deliberately unused: the client only knows the configured broker.
  std::optional<std::string_view> query;
  if (uri.query()) query = *uri.query();
  return client_->GetResource(uri.plugin(), uri.ResourcePath(), query, ctx);
}

}  // namespace cdh::resources
