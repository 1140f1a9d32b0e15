#include "resources/kms/kbs_kms.h"

#include "common/base64.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "crypto/aes.h"

namespace cdh::resources {

absl::StatusOr<SecretBytes> OpenAes256GcmTagAppended(const SecretBytes& key, std::string_view iv,
                                                     std::string_view blob, std::string_view what) {
  if (iv.size() != 12) {
    return absl::InvalidArgumentError(StrCat(what, ": AES-256-GCM IV must be 12 bytes, got ", iv.size()));
  }
  if (blob.size() < crypto::kGcmTagSize) {
    return absl::InvalidArgumentError(StrCat(what, ": ciphertext is shorter than the 16-byte tag"));
  }
  auto plaintext = crypto::Aes256GcmDecrypt(key, iv, blob.substr(0, blob.size() - crypto::kGcmTagSize),
                                            blob.substr(blob.size() - crypto::kGcmTagSize), "");
  if (absl::IsPermissionDenied(plaintext.status())) {
    return absl::PermissionDeniedError(StrCat(what, ": authentication failed (wrong key or tampered data)"));
  }
  return plaintext;
}

absl::StatusOr<SecretBytes> KbsKms::Decrypt(std::string_view ciphertext, std::string_view key_id,
                                            const nlohmann::json& annotations, const CallContext& ctx) {
  auto uri = ResourceUri::Parse(key_id);
  if (!uri.ok()) return Annotate(uri.status(), "kbs KMS key id must be a KBS resource URI");
  if (!annotations.is_object() || !annotations.contains("iv") || !annotations["iv"].is_string()) {
    return absl::InvalidArgumentError("kbs KMS: annotations need `iv` (standard base64 of 12 bytes)");
  }
  auto iv = Base64StdDecode(annotations["iv"].get<std::string>());
  if (!iv.ok()) return Annotate(iv.status(), "kbs KMS: annotation `iv`");
  auto kek = provider_.GetResource(*uri, ctx);
  if (!kek.ok()) return Annotate(kek.status(), StrCat("fetching KEK ", uri->ToString()));
  if (kek->size() != crypto::kAes256KeySize) {
    return absl::InvalidArgumentError(
        StrCat("KEK ", uri->ToString(), " must be 32 bytes (AES-256), got ", kek->size()));
  }
  return OpenAes256GcmTagAppended(*kek, *iv, ciphertext, "kbs KMS wrapped data key");
}

}  // namespace cdh::resources
