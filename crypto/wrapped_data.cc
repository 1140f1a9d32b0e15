#include "crypto/wrapped_data.h"

#include "common/strings.h"
#include "crypto/aes.h"

namespace cdh::crypto {

absl::StatusOr<WrapType> ParseWrapType(std::string_view name) {
  if (name == "A256GCM") return WrapType::kA256Gcm;
  if (name == "A256CTR") return WrapType::kA256Ctr;
  return absl::InvalidArgumentError(StrCat("`wrap_type` must be A256GCM or A256CTR, got `", Sanitize(name, 16), "`"));
}

std::string_view WrapTypeName(WrapType type) { return type == WrapType::kA256Gcm ? "A256GCM" : "A256CTR"; }

size_t WrapIvSize(WrapType type) { return type == WrapType::kA256Gcm ? 12 : 16; }

absl::Status CheckWrappedData(WrapType type, std::string_view iv, std::string_view blob, std::string_view what) {
  if (iv.size() != WrapIvSize(type)) {
    return absl::InvalidArgumentError(
        StrCat(what, ": `iv` must be ", WrapIvSize(type), " bytes for ", WrapTypeName(type), ", got ", iv.size()));
  }
  if (type == WrapType::kA256Gcm && blob.size() < kGcmTagSize) {
    return absl::InvalidArgumentError(StrCat(what, ": ciphertext is shorter than the 16-byte GCM tag"));
  }
  return absl::OkStatus();
}

absl::StatusOr<SecretBytes> OpenWrappedData(WrapType type, const SecretBytes& key, std::string_view iv,
                                            std::string_view blob, std::string_view what) {
  absl::Status checked = CheckWrappedData(type, iv, blob, what);
  if (!checked.ok()) return checked;
  if (type == WrapType::kA256Ctr) return Aes256CtrCrypt(key, iv, blob);
  absl::StatusOr<SecretBytes> plaintext =
      Aes256GcmDecrypt(key, iv, blob.substr(0, blob.size() - kGcmTagSize), blob.substr(blob.size() - kGcmTagSize), "");
  if (absl::IsPermissionDenied(plaintext.status())) {
    return absl::PermissionDeniedError(StrCat(what, ": authentication failed (wrong key or tampered data)"));
  }
  return plaintext;
}

}  // namespace cdh::crypto
