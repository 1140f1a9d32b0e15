// OcicryptLayerDecryptor: decrypts ocicrypt-encrypted image layers (containers/ocicrypt,
// spec/spec.go, blockcipher/blockcipher_aes_ctr.go) whose layer key is released by the broker
// through the CoCo key provider (annotation
// `org.opencontainers.image.enc.keys.provider.attestation-agent`, guest-components
// attestation-agent/coco_keyprovider).
//
// Open(layer):
//  1. `org.opencontainers.image.enc.pubopts` = base64 of {"cipher":"AES_256_CTR_HMAC_SHA256",
//     "hmac":B64(32 bytes),"cipheroptions":{}}; any other cipher is UNIMPLEMENTED.
//  2. The recipients: `org.opencontainers.image.enc.keys.provider.<name>` = comma-separated
//     base64 annotation packets, `attestation-agent` first, then other provider names (upstream
//     sends any provider annotation to the configured provider). Each packet is unwrapped
//     in-process by the daemon's own UnWrapKey logic (resources/image/key_unwrapper.h: KEK =
//     the `kid` resource from the broker, AES-256-GCM) until one succeeds. Layers with only
//     `jwe`/`pgp`/`pkcs7` recipients are UNIMPLEMENTED (as in upstream's CDH build).
//  3. The unwrapped private options {"symkey":B64(32),"digest":…,"cipheroptions":{"nonce":
//     B64(16)}} give the AES-256-CTR key and initial counter.
// The returned stream decrypts with AES-256-CTR while computing HMAC-SHA-256 (keyed with the
// same symkey) over the ciphertext; Finish() compares it with pubopts.hmac in constant time and
// answers DATA_LOSS on a mismatch. Update hands out plaintext before the HMAC is known: the
// caller publishes nothing derived from it before Finish returns OK (see image/layer_decryptor.h).
//
// Where the zeroizing type's reach ends: the private options are parsed with nlohmann-json, so
// the base64 text of the layer key lives briefly in that library's std::string buffers; the
// decoded key is held in SecretBytes and inside OpenSSL contexts (freed with a wipe).
//
// Codes of Open: INVALID_ARGUMENT not an encrypted media type, a missing or malformed
// annotation or private option; UNIMPLEMENTED another cipher or no key-provider recipient;
// the UnWrapKey codes (PERMISSION_DENIED the wrapped key does not authenticate under the KEK,
// NOT_FOUND / UNAUTHENTICATED / UNAVAILABLE from the broker, DEADLINE_EXCEEDED) of the last
// recipient tried. Thread-safe; neither copyable nor movable; the unwrapper must outlive it.
#ifndef CDH_IMAGE_OCICRYPT_OCICRYPT_LAYER_DECRYPTOR_H_
#define CDH_IMAGE_OCICRYPT_OCICRYPT_LAYER_DECRYPTOR_H_

#include <memory>

#include "common/call_context.h"
#include "image/layer_decryptor.h"
#include "resources/image/key_unwrapper.h"

namespace cdh::image {

inline constexpr std::string_view kEncPubOptsAnnotation = "org.opencontainers.image.enc.pubopts";
inline constexpr std::string_view kEncKeysPrefix = "org.opencontainers.image.enc.keys.";
inline constexpr std::string_view kEncKeysProviderPrefix = "org.opencontainers.image.enc.keys.provider.";
inline constexpr std::string_view kCocoKeyProviderAnnotation =
    "org.opencontainers.image.enc.keys.provider.attestation-agent";
inline constexpr std::string_view kOcicryptCipher = "AES_256_CTR_HMAC_SHA256";

class OcicryptLayerDecryptor : public LayerDecryptor {
 public:
  explicit OcicryptLayerDecryptor(resources::KeyUnwrapper& unwrapper) : unwrapper_(unwrapper) {}
  OcicryptLayerDecryptor(const OcicryptLayerDecryptor&) = delete;
  OcicryptLayerDecryptor& operator=(const OcicryptLayerDecryptor&) = delete;

  bool IsEncrypted(const Descriptor& layer) const override { return IsEncryptedMediaType(layer.media_type); }
  absl::StatusOr<std::unique_ptr<LayerStreamDecryptor>> Open(const Descriptor& layer, const CallContext& ctx) override;

 private:
  resources::KeyUnwrapper& unwrapper_;
};

}  // namespace cdh::image

#endif  // CDH_IMAGE_OCICRYPT_OCICRYPT_LAYER_DECRYPTOR_H_
