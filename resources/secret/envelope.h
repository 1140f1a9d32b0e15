// Envelope secrets (cdh-api.md §8.1, §8.3): the secret travels in the sealed secret, encrypted
// with a data key (DEK) that a KMS key-encryption key (KEK) wraps.
//
// Opening: `encrypted_key`, `iv` and `encrypted_data` are standard base64 (with padding);
// `wrap_type` is exactly "A256GCM" (12-byte IV, 16-byte tag appended to the ciphertext, no AAD)
// or "A256CTR" (16-byte IV, unauthenticated, as upstream accepts it); the DEK comes from the KMS
// provider named by `provider` and must be 32 bytes. Every field is checked before the KMS is
// asked. Codes: INVALID_ARGUMENT naming the field; UNIMPLEMENTED unknown provider;
// PERMISSION_DENIED when the data (or the wrapped key) does not authenticate — no partial
// plaintext is ever returned; plus the KMS's own codes.
#ifndef CDH_RESOURCES_SECRET_ENVELOPE_H_
#define CDH_RESOURCES_SECRET_ENVELOPE_H_

#include "resources/kms/kms_provider.h"
#include "resources/secret/secret_unsealer.h"

namespace cdh::resources {

// Thread-safe; holds a reference to the registry, which must outlive it.
class KmsEnvelopeDecryptor : public EnvelopeDecryptor {
 public:
  explicit KmsEnvelopeDecryptor(const KmsRegistry& registry) : registry_(registry) {}
  absl::StatusOr<SecretBytes> Decrypt(const EnvelopeSecret& secret, const CallContext& ctx) override;

 private:
  const KmsRegistry& registry_;
};

// Sealing side for the `kbs` provider (`secret seal … envelope … kbs`): encrypts `plaintext`
// with a fresh DEK (AES-256-GCM, fresh 12-byte IV), wraps the DEK with `kek` (32 bytes) the way
// KbsKms unwraps it (fresh 12-byte IV in annotations.iv), and returns the payload fields.
// INVALID_ARGUMENT for a KEK that is not 32 bytes or a `key_id` that is not a resource URI.
absl::StatusOr<EnvelopeSecret> SealEnvelopeForKbs(std::string_view plaintext, const SecretBytes& kek,
                                                  std::string key_id);

}  // namespace cdh::resources

#endif  // CDH_RESOURCES_SECRET_ENVELOPE_H_
