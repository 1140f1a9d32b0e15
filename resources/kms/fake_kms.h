// FakeKms: a KMS decryptor for tests that returns a fixed data key for a fixed ciphertext and
// key id, and PERMISSION_DENIED otherwise (cdh-api.md §15 vector 3 uses one that returns
// bytes 0x00..0x1f). A fake shipped as library code. Thread-safe.
#ifndef CDH_RESOURCES_KMS_FAKE_KMS_H_
#define CDH_RESOURCES_KMS_FAKE_KMS_H_

#include <string>

#include "common/strings.h"
#include "resources/kms/kms_provider.h"

namespace cdh::resources {

class FakeKms : public KmsDecryptor {
 public:
  FakeKms(std::string ciphertext, std::string key_id, std::string data_key)
      : ciphertext_(std::move(ciphertext)), key_id_(std::move(key_id)), data_key_(std::move(data_key)) {}
  absl::StatusOr<SecretBytes> Decrypt(std::string_view ciphertext, std::string_view key_id, const nlohmann::json&,
                                      const CallContext&) override {
    if (key_id != key_id_) return absl::NotFoundError(StrCat("fake KMS: no key ", key_id));
    if (ciphertext != ciphertext_) return absl::PermissionDeniedError("fake KMS: ciphertext does not decrypt");
    return SecretBytes::FromString(data_key_);
  }

 private:
  const std::string ciphertext_, key_id_, data_key_;
};

}  // namespace cdh::resources

#endif  // CDH_RESOURCES_KMS_FAKE_KMS_H_
