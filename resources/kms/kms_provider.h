// KMS providers: decrypt a data key that a key-encryption key (KEK) in a KMS wrapped
// (cdh-api.md §8.3-8.4, §10). Cloud KMS plugins (Aliyun, AWS, eHSM upstream) plug in here as
// separate modules; this build has `kbs`, whose KEK is a broker resource.
//
// Contract: implementations are thread-safe. Decrypt returns the data key as SecretBytes, or:
//   INVALID_ARGUMENT   malformed ciphertext, key id or annotations (the message names which)
//   PERMISSION_DENIED  the ciphertext does not authenticate under the key (or the KMS refused)
//   NOT_FOUND          the key does not exist
//   UNAVAILABLE / UNAUTHENTICATED / DEADLINE_EXCEEDED  from the KMS transport
// Messages never contain key bytes.
#ifndef CDH_RESOURCES_KMS_KMS_PROVIDER_H_
#define CDH_RESOURCES_KMS_KMS_PROVIDER_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/call_context.h"
#include "common/secret_bytes.h"
#include "nlohmann/json.hpp"

namespace cdh::resources {

class KmsDecryptor {
 public:
  virtual ~KmsDecryptor() = default;
  // `ciphertext`: the wrapped data key, raw bytes. `key_id`: the KMS key id of the KEK.
  // `annotations`: provider-specific decryption parameters (a JSON object).
  virtual absl::StatusOr<SecretBytes> Decrypt(std::string_view ciphertext, std::string_view key_id,
                                              const nlohmann::json& annotations, const CallContext& ctx) = 0;
};

// Builds a decryptor for one request from its `provider_settings` (a JSON object).
using KmsFactory = std::function<absl::StatusOr<std::unique_ptr<KmsDecryptor>>(const nlohmann::json& settings)>;

// Provider name (lower case) -> factory. Filled explicitly by the composition root.
// Copyable; thread-compatible (fill, then share read-only).
class KmsRegistry {
 public:
  void Register(std::string name, KmsFactory factory) { factories_[std::move(name)] = std::move(factory); }
  // UNIMPLEMENTED naming `name` and the available providers when none is registered.
  absl::StatusOr<std::unique_ptr<KmsDecryptor>> Create(std::string_view name, const nlohmann::json& settings) const;

 private:
  std::map<std::string, KmsFactory> factories_;
};

}  // namespace cdh::resources

#endif  // CDH_RESOURCES_KMS_KMS_PROVIDER_H_
