// KeyUnwrapper: ocicrypt's key-provider UnWrapKey for image-layer keys (cdh-api.md §10).
//
// Input: the key-provider protocol JSON
//   {"op":"keyunwrap","keywrapparams":{…},"keyunwrapparams":{"dc":…,"annotation":"<std base64 of
//    the AnnotationPacket JSON>"}}
// AnnotationPacket (v2, with v1 defaults): kid (required), wrapped_data (required, std base64),
// version ("0.1.0"), provider ("kbs"), iv (std base64; required for kbs), wrap_type
// ("A256GCM"|"A256CTR"; required for kbs), provider_settings ({}), annotations ({}).
// Every provider is a KMS decryptor from the registry; for provider "kbs" (the KbsKms of
// resources/kms/kbs_kms.h: KEK = the resource named by kid, 32 bytes) the packet's `iv` and
// `wrap_type` become its annotations, so wrapped_data is opened as in envelope secrets (§8.3).
// Output: {"keyunwrapresults":{"optsdata":[<the layer key as an array of byte values>]}}, the
// exact shape ocicrypt-rs parses (not base64).
//
// `op` must be "keyunwrap" (this service never wraps); any other value is INVALID_ARGUMENT.
// Codes: INVALID_ARGUMENT malformed input or packet (naming the field); UNIMPLEMENTED unknown
// provider; PERMISSION_DENIED the wrapped key does not authenticate; the provider's codes.
// Thread-safe; references must outlive it.
#ifndef CDH_RESOURCES_IMAGE_KEY_UNWRAPPER_H_
#define CDH_RESOURCES_IMAGE_KEY_UNWRAPPER_H_

#include <string_view>

#include "absl/status/statusor.h"
#include "common/call_context.h"
#include "common/secret_bytes.h"
#include "resources/kms/kms_provider.h"

namespace cdh::resources {

class KeyUnwrapper {
 public:
  // Largest key-provider input accepted, in bytes.
  static constexpr size_t kMaxInputSize = 1 << 20;

  explicit KeyUnwrapper(const KmsRegistry& kms) : kms_(kms) {}
  // Returns the output JSON (it holds the layer key).
  absl::StatusOr<SecretBytes> Unwrap(std::string_view input_json, const CallContext& ctx);
  // The layer key alone.
  absl::StatusOr<SecretBytes> UnwrapLayerKey(std::string_view input_json, const CallContext& ctx);

 private:
  const KmsRegistry& kms_;
};

}  // namespace cdh::resources

#endif  // CDH_RESOURCES_IMAGE_KEY_UNWRAPPER_H_
