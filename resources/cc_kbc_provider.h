// CcKbcProvider: the `cc_kbc` KBC (cdh-api.md §9.2-9.3): resources come from a Key Broker
// Service through the attested RCAR client (kbs-client/kbs_client.h), which attests once and
// reuses its token, unlike upstream's new client and attestation per call.
//
// The broker is always the configured `[kbc] url`: the URI's authority (`kbs://host:port/...`)
// is never used to connect (cdh-api.md §9.1). Plugin, path and query of the URI
// are forwarded: GET <kbc.url>/kbs/v0/<plugin>/<path>[?query].
// Status codes: those of the ResourceProvider contract, as KbsClient::GetResource returns them.
// Thread-safe; neither copyable nor movable.
#ifndef CDH_RESOURCES_CC_KBC_PROVIDER_H_
#define CDH_RESOURCES_CC_KBC_PROVIDER_H_

#include <memory>

#include "kbs-client/kbs_client.h"
#include "resources/resource_provider.h"

namespace cdh::resources {

class CcKbcProvider : public ResourceProvider {
 public:
  // The client (the attested session) may be shared with the attestation agent's GetToken.
  explicit CcKbcProvider(std::shared_ptr<kbs::KbsClient> client) : client_(std::move(client)) {}
  CcKbcProvider(const CcKbcProvider&) = delete;
  CcKbcProvider& operator=(const CcKbcProvider&) = delete;

  absl::StatusOr<SecretBytes> GetResource(const ResourceUri& uri, const CallContext& ctx) override;
  std::string_view name() const override { return "cc_kbc"; }

  kbs::KbsClient& client() { return *client_; }

 private:
  const std::shared_ptr<kbs::KbsClient> client_;
};

}  // namespace cdh::resources

#endif  // CDH_RESOURCES_CC_KBC_PROVIDER_H_
