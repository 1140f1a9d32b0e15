// The composition root's building blocks: from a CdhConfig to a running Hub. The only place
// that knows every concrete component; the registries are explicit objects filled here
// (no static-initialiser registration: those are silently dropped when CMake links static
// libraries).
#ifndef CDH_DAEMON_COMPOSITION_H_
#define CDH_DAEMON_COMPOSITION_H_

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "daemon/config.h"
#include "hub/hub.h"

namespace cdh {

// KBC name -> its traits and the factory of its ResourceProvider: the only list of KBC names.
// Copyable; thread-compatible (filled once, then read).
class KbcRegistry {
 public:
  using Factory = std::function<absl::StatusOr<std::unique_ptr<resources::ResourceProvider>>(const CdhConfig& config)>;
  // A later registration of the same name replaces the earlier one.
  void Register(std::string name, KbcTraits traits, Factory factory);
  // Names and traits, for LoadConfig's validation.
  std::map<std::string, KbcTraits, std::less<>> Traits() const;
  // The provider for `config.kbc.name`: INVALID_ARGUMENT for a name that is not registered,
  // whatever the factory returns otherwise.
  absl::StatusOr<std::unique_ptr<resources::ResourceProvider>> New(const CdhConfig& config) const;

 private:
  struct Entry {
    KbcTraits traits;
    Factory factory;
  };
  std::map<std::string, Entry, std::less<>> entries_;
};

// The KBCs this build has: cc_kbc (attested access to a KBS) and offline_fs_kbc.
KbcRegistry BuiltinKbcs();

// The KBC and TEE names this build has, for LoadConfig.
KnownPlugins BuiltinPlugins();

// Builds the resource provider for `config.kbc.name`, the sealed-secret unsealer and the
// volume drivers, with BuiltinKbcs(). INVALID_ARGUMENT for an unknown KBC; whatever a factory
// returns otherwise.
absl::StatusOr<std::unique_ptr<Hub>> BuildHub(const CdhConfig& config);

// Fetches every [[credentials]] resource and writes it (mode 0600) to its path, which
// LoadConfig has already confined to <base_dir>/kbs (cdh-api.md §6 step 3). A broker that is
// UNAVAILABLE (not up yet) is retried with backoff (100 ms doubling to 800 ms) until `ctx`'s
// deadline; the first other failure, or the last one at the deadline, is returned annotated with
// the resource URI; files already written stay.
absl::Status FetchCredentials(const CdhConfig& config, DataHub& hub, const CallContext& ctx);

// How long startup waits for the broker to hand out the [[credentials]]. The sockets are bound
// only after them (as upstream, cdh-api.md §4), and the kata agent gives up when the socket has
// not appeared within agent.launch_process_timeout (6 s, polled once a second): 4 s for the
// broker leaves the rest of startup and kata's polling step inside those 6 s.
inline constexpr absl::Duration kCredentialsStartupBudget = absl::Seconds(4);

}  // namespace cdh

#endif  // CDH_DAEMON_COMPOSITION_H_
