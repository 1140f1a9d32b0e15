// KbsKms: the `kbs` KMS provider (ours; upstream has none). The KEK is a broker resource named
// by the key id (a KBS resource URI), fetched through the attested ResourceProvider; it must be
// 32 bytes. The data key is wrapped as crypto/wrapped_data.h describes — the same layout as the
// envelope payload (cdh-api.md §8.3) — with the IV carried in the annotations as standard
// base64: {"iv": "<base64>", "wrap_type": "A256GCM"|"A256CTR"}; `wrap_type` defaults to A256GCM
// (what `secret seal … kbs` writes). UnWrapKey's `kbs` annotation packets (§10) are opened
// through this provider too, with the packet's `iv` and `wrap_type`.
//
// Codes: INVALID_ARGUMENT key id not a resource URI, KEK not 32 bytes, `iv` missing or of the
// wrong length, unknown `wrap_type`, ciphertext shorter than the tag (all but the KEK size are
// checked before the KEK is fetched); PERMISSION_DENIED the wrapped key does not authenticate;
// whatever the ResourceProvider returns for the KEK. Thread-safe.
#ifndef CDH_RESOURCES_KMS_KBS_KMS_H_
#define CDH_RESOURCES_KMS_KBS_KMS_H_

#include "resources/kms/kms_provider.h"
#include "resources/resource_provider.h"

namespace cdh::resources {

class KbsKms : public KmsDecryptor {
 public:
  explicit KbsKms(ResourceProvider& provider) : provider_(provider) {}
  absl::StatusOr<SecretBytes> Decrypt(std::string_view ciphertext, std::string_view key_id,
                                      const nlohmann::json& annotations, const CallContext& ctx) override;

 private:
  ResourceProvider& provider_;
};

}  // namespace cdh::resources

#endif  // CDH_RESOURCES_KMS_KBS_KMS_H_
