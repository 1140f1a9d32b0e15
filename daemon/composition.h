// The composition root's building blocks: from a CdhConfig to a running Hub. The only place
// that knows every concrete component; the registries are explicit objects filled here
// (../shared/STYLE.md: no static-initialiser registration).
#ifndef CDH_DAEMON_COMPOSITION_H_
#define CDH_DAEMON_COMPOSITION_H_

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "daemon/config.h"
#include "hub/hub.h"

namespace cdh {

// KBC name -> factory of its ResourceProvider.
using KbcFactory =
    std::function<absl::StatusOr<std::unique_ptr<resources::ResourceProvider>>(const CdhConfig& config)>;
std::map<std::string, KbcFactory> BuiltinKbcFactories();

// Builds the resource provider for `config.kbc.name`, the sealed-secret unsealer and the
// volume drivers. INVALID_ARGUMENT for an unknown KBC; whatever a factory returns otherwise.
absl::StatusOr<std::unique_ptr<Hub>> BuildHub(const CdhConfig& config);

// Fetches every [[credentials]] resource and writes it (mode 0600) to its path, which
// LoadConfig has already confined to <base_dir>/kbs (cdh-api.md §6 step 3). The first failure
// is returned, annotated with the resource URI; files already written stay.
absl::Status FetchCredentials(const CdhConfig& config, DataHub& hub, const CallContext& ctx);

}  // namespace cdh

#endif  // CDH_DAEMON_COMPOSITION_H_
