// LayerDecryptor: decrypts ocicrypt-encrypted layers (image-pull spec §7; containers/ocicrypt
// spec/spec.go). The puller asks IsEncrypted for each layer descriptor and, for an encrypted one,
// streams the blob through the LayerStreamDecryptor that Open returns — on every pull, even when
// a plaintext twin of the layer is cached, so the key release is never skipped (spec §1.8).
// The production implementation is image/ocicrypt/ (OcicryptLayerDecryptor); tests without it
// use RefuseEncryptedLayerDecryptor below.
//
// Security property: LayerStreamDecryptor::Update may hand out plaintext before the HMAC over the
// ciphertext is known; the caller keeps everything it derived from that plaintext unpublished
// (staging directory) until Finish returns OK.
#ifndef CDH_IMAGE_LAYER_DECRYPTOR_H_
#define CDH_IMAGE_LAYER_DECRYPTOR_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/call_context.h"
#include "image/descriptor.h"

namespace cdh::image {

// One layer's decryption stream. Move-only by pointer; not thread-safe (one layer, one thread).
class LayerStreamDecryptor {
 public:
  virtual ~LayerStreamDecryptor() = default;
  // Decrypts `in` (the next ciphertext bytes, any chunking) and appends the plaintext to `out`.
  virtual absl::Status Update(std::span<const uint8_t> in, std::string& out) = 0;
  // Ends the stream. DATA_LOSS when the HMAC over the ciphertext does not match pubopts.hmac.
  virtual absl::Status Finish() = 0;
};

// Contract: implementations are thread-safe (several layers open at once); neither copyable nor
// movable. Status codes of Open:
//   INVALID_ARGUMENT   missing or malformed enc annotations
//   UNIMPLEMENTED      unsupported cipher or no recipient this CDH can unwrap
//   PERMISSION_DENIED, UNAUTHENTICATED, UNAVAILABLE, NOT_FOUND  from the key release (KBS)
//   DEADLINE_EXCEEDED  `deadline` passed
class LayerDecryptor {
 public:
  virtual ~LayerDecryptor() = default;
  // True for the `+encrypted` layer media types (spec §7.1).
  virtual bool IsEncrypted(const Descriptor& layer) const = 0;
  virtual absl::StatusOr<std::unique_ptr<LayerStreamDecryptor>> Open(const Descriptor& layer,
                                                                     const CallContext& ctx) = 0;
};

// The media type of an encrypted layer once decrypted: `media_type` without "+encrypted"
// ("application/vnd.oci.image.layer.v1.tar+gzip+encrypted" -> "…tar+gzip"); unchanged otherwise.
std::string DecryptedMediaType(const std::string& media_type);
// True when `media_type` ends with "+encrypted".
bool IsEncryptedMediaType(const std::string& media_type);

// Recognises encrypted layers and refuses to open them (UNIMPLEMENTED): what a CDH without
// ocicrypt support does. Thread-safe; stateless.
class RefuseEncryptedLayerDecryptor : public LayerDecryptor {
 public:
  bool IsEncrypted(const Descriptor& layer) const override { return IsEncryptedMediaType(layer.media_type); }
  absl::StatusOr<std::unique_ptr<LayerStreamDecryptor>> Open(const Descriptor& layer, const CallContext& ctx) override;
};

}  // namespace cdh::image

#endif  // CDH_IMAGE_LAYER_DECRYPTOR_H_
