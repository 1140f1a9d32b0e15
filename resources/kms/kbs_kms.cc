#include "resources/kms/kbs_kms.h"

#include "common/base64.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "crypto/aes.h"
#include "crypto/wrapped_data.h"

namespace cdh::resources {

absl::StatusOr<SecretBytes> KbsKms::Decrypt(std::string_view ciphertext, std::string_view key_id,
                                            const nlohmann::json& annotations, const CallContext& ctx) {
  auto uri = ResourceUri::Parse(key_id);
  if (!uri.ok()) return Annotate(uri.status(), "kbs KMS key id must be a KBS resource URI");
  if (!annotations.is_object() || !annotations.contains("iv") || !annotations["iv"].is_string()) {
    return absl::InvalidArgumentError("kbs KMS: annotations need `iv` (standard base64 of 12 bytes)");
  }
  auto iv = Base64StdDecode(annotations["iv"].get<std::string>());
  if (!iv.ok()) return Annotate(iv.status(), "kbs KMS: annotation `iv`");
  crypto::WrapType wrap_type = crypto::WrapType::kA256Gcm;
  if (annotations.contains("wrap_type")) {
    if (!annotations["wrap_type"].is_string())
      return absl::InvalidArgumentError("kbs KMS: `wrap_type` must be a string");
    CDH_ASSIGN_OR_RETURN(wrap_type, crypto::ParseWrapType(annotations["wrap_type"].get<std::string>()));
  }
  constexpr std::string_view kWhat = "kbs KMS wrapped data key";
  CDH_RETURN_IF_ERROR(crypto::CheckWrappedData(wrap_type, *iv, ciphertext, kWhat));
  auto kek = provider_.GetResource(*uri, ctx);
  if (!kek.ok()) return Annotate(kek.status(), StrCat("fetching KEK ", uri->ToString()));
  if (kek->size() != crypto::kAes256KeySize) {
    return absl::InvalidArgumentError(
        StrCat("KEK ", uri->ToString(), " must be 32 bytes (AES-256), got ", kek->size()));
  }
  return crypto::OpenWrappedData(wrap_type, *kek, *iv, ciphertext, kWhat);
}

}  // namespace cdh::resources
