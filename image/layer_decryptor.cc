#include "image/layer_decryptor.h"

#include "common/strings.h"

namespace cdh::image {

namespace {
constexpr std::string_view kEncryptedSuffix = "+encrypted";
}  // namespace

bool IsEncryptedMediaType(const std::string& media_type) {
  return media_type.size() > kEncryptedSuffix.size() &&
         std::string_view(media_type).substr(media_type.size() - kEncryptedSuffix.size()) == kEncryptedSuffix;
}

std::string DecryptedMediaType(const std::string& media_type) {
  if (!IsEncryptedMediaType(media_type)) return media_type;
  return media_type.substr(0, media_type.size() - kEncryptedSuffix.size());
}

absl::StatusOr<std::unique_ptr<LayerStreamDecryptor>> RefuseEncryptedLayerDecryptor::Open(const Descriptor& layer,
                                                                                          const CallContext&) {
  return absl::UnimplementedError(
      StrCat("Failed to decrypt layer ", layer.digest.String(), ": encrypted layers are not supported by this build"));
}

}  // namespace cdh::image
