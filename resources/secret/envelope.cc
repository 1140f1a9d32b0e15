#include "resources/secret/envelope.h"

#include "common/base64.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "crypto/aes.h"
#include "crypto/hash.h"
#include "crypto/wrapped_data.h"
#include "resources/resource_uri.h"

namespace cdh::resources {
namespace {

absl::StatusOr<std::string> DecodeField(const std::string& value, std::string_view field) {
  auto bytes = Base64StdDecode(value);
  if (!bytes.ok()) {
    return absl::InvalidArgumentError(StrCat("envelope secret field `", field, "`: ", ToStd(bytes.status().message())));
  }
  return *bytes;
}

}  // namespace

absl::StatusOr<SecretBytes> KmsEnvelopeDecryptor::Decrypt(const EnvelopeSecret& secret, const CallContext& ctx) {
  CDH_ASSIGN_OR_RETURN(std::string wrapped_key, DecodeField(secret.encrypted_key, "encrypted_key"));
  CDH_ASSIGN_OR_RETURN(std::string iv, DecodeField(secret.iv, "iv"));
  CDH_ASSIGN_OR_RETURN(std::string data, DecodeField(secret.encrypted_data, "encrypted_data"));
  absl::StatusOr<crypto::WrapType> wrap_type = crypto::ParseWrapType(secret.wrap_type);
  if (!wrap_type.ok()) return Annotate(wrap_type.status(), "envelope secret");
  CDH_RETURN_IF_ERROR(crypto::CheckWrappedData(*wrap_type, iv, data, "envelope secret"));
  if (wrapped_key.empty()) return absl::InvalidArgumentError("envelope secret field `encrypted_key` is empty");
  CDH_ASSIGN_OR_RETURN(std::unique_ptr<KmsDecryptor> kms, registry_.Create(secret.provider, secret.provider_settings));
  auto dek = kms->Decrypt(wrapped_key, secret.key_id, secret.annotations, ctx);
  if (!dek.ok())
    return Annotate(dek.status(),
                    StrCat("envelope secret: unwrapping the data key with `", Sanitize(secret.key_id), "`"));
  if (dek->size() != crypto::kAes256KeySize) {
    return absl::InvalidArgumentError(
        StrCat("envelope secret: the KMS returned a ", dek->size(), "-byte data key, 32 expected"));
  }
  return crypto::OpenWrappedData(*wrap_type, *dek, iv, data, "envelope secret data");
}

absl::StatusOr<EnvelopeSecret> SealEnvelopeForKbs(std::string_view plaintext, const SecretBytes& kek,
                                                  std::string key_id) {
  if (kek.size() != crypto::kAes256KeySize) {
    return absl::InvalidArgumentError(StrCat("KEK must be 32 bytes (AES-256), got ", kek.size()));
  }
  CDH_RETURN_IF_ERROR(ResourceUri::Parse(key_id).status());
  CDH_ASSIGN_OR_RETURN(SecretBytes dek, crypto::RandomBytes(crypto::kAes256KeySize));
  CDH_ASSIGN_OR_RETURN(SecretBytes data_iv, crypto::RandomBytes(12));
  CDH_ASSIGN_OR_RETURN(SecretBytes wrap_iv, crypto::RandomBytes(12));
  CDH_ASSIGN_OR_RETURN(crypto::GcmCiphertext data,
                       crypto::Aes256GcmEncrypt(dek, data_iv.RevealString(), plaintext, ""));
  CDH_ASSIGN_OR_RETURN(crypto::GcmCiphertext wrapped,
                       crypto::Aes256GcmEncrypt(kek, wrap_iv.RevealString(), dek.RevealString(), ""));
  EnvelopeSecret e;
  e.key_id = std::move(key_id);
  e.encrypted_key = Base64StdEncode(wrapped.ciphertext + wrapped.tag);
  e.encrypted_data = Base64StdEncode(data.ciphertext + data.tag);
  e.wrap_type = "A256GCM";
  e.iv = Base64StdEncode(data_iv.RevealString());
  e.provider = "kbs";
  e.provider_settings = nlohmann::json::object();
  e.annotations = nlohmann::json{{"iv", Base64StdEncode(wrap_iv.RevealString())}};
  return e;
}

}  // namespace cdh::resources
