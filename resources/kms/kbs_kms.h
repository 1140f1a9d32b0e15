// KbsKms: the `kbs` KMS provider (ours; upstream has none). The KEK is a broker resource named
// by the key id (a KBS resource URI), fetched through the attested ResourceProvider; it must be
// 32 bytes. The data key is wrapped with AES-256-GCM, 16-byte tag appended, no AAD — the same
// layout as the envelope payload (cdh-api.md §8.3) — under a 12-byte IV carried in the
// annotations as standard base64: {"iv": "<base64>"}.
//
// Codes: INVALID_ARGUMENT key id not a resource URI, KEK not 32 bytes, `iv` missing or not 12
// bytes, ciphertext shorter than the tag; PERMISSION_DENIED the wrapped key does not
// authenticate; whatever the ResourceProvider returns for the KEK. Thread-safe.
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

// AES-256-GCM open of `blob` = ciphertext || 16-byte tag, no AAD, with a 12-byte `iv`.
// The shared layout of envelope data, KbsKms wrapped keys and UnWrapKey `kbs` packets.
// INVALID_ARGUMENT (naming `what`) for a wrong IV length or a blob shorter than the tag;
// PERMISSION_DENIED when it does not authenticate.
absl::StatusOr<SecretBytes> OpenAes256GcmTagAppended(const SecretBytes& key, std::string_view iv,
                                                     std::string_view blob, std::string_view what);

}  // namespace cdh::resources

#endif  // CDH_RESOURCES_KMS_KBS_KMS_H_
