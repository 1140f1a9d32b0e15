// Init data (attesters.md §5): the TOML document the host measured into the TEE at launch, its
// digest, and the RCAR `init-data` value the KBS client sends (kbs-protocol.md, attesters.md §5.4).
//
//   version = "0.1.0"
//   algorithm = "sha256" | "sha384" | "sha512"
//   [data] ...
// Digest = H_algorithm(the TOML bytes exactly as delivered), no canonicalisation.
// InitData is a copyable value type; thread-compatible.
#ifndef CDH_ATTESTATION_INIT_DATA_H_
#define CDH_ATTESTATION_INIT_DATA_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "attestation/attester.h"
#include "crypto/hash.h"
#include "nlohmann/json.hpp"

namespace cdh::attestation {

// Where the kata agent writes the init-data TOML in the guest (§5.3).
inline constexpr char kDefaultInitDataPath[] = "/run/confidential-containers/initdata/initdata.toml";
inline constexpr size_t kMaxInitDataSize = 1 << 20;

struct InitData {
  std::string toml;  // exact bytes
  crypto::HashAlgorithm algorithm = crypto::HashAlgorithm::kSha384;
  std::string digest;  // raw H_algorithm(toml)

  // The RCAR Attestation `init-data` member: {"format": "toml", "body": <toml>}.
  nlohmann::json RcarValue() const { return {{"format", "toml"}, {"body", toml}}; }
};

// Parses and digests `toml`. INVALID_ARGUMENT when it is not TOML, `version` is not "0.1.0" or
// `algorithm` is not sha256/sha384/sha512 (lower case, as upstream deserialises it).
absl::StatusOr<InitData> ParseInitData(std::string toml);

// Reads `path`: nullopt when the file does not exist (no init data delivered); otherwise the
// ParseInitData codes, INVALID_ARGUMENT when larger than kMaxInitDataSize.
absl::StatusOr<std::optional<InitData>> LoadInitData(const std::string& path);

// Checks/performs the binding of `init_data` on `attester` (Attester::BindInitData). OK also when
// the TEE has no binding (UNIMPLEMENTED is reported as OK with `*bound = false`); any other error
// is returned (a mismatch must stop the daemon, as upstream AA aborts).
absl::Status BindInitData(Attester& attester, const InitData& init_data, const CallContext& ctx, bool* bound);

}  // namespace cdh::attestation

#endif  // CDH_ATTESTATION_INIT_DATA_H_
