// Registry answers for an image (image/manifest.h, OCI image-spec and Docker v2.2): an image
// index with platform selection, a manifest with its descriptors and each layer's media type,
// and an image config. Every parser sees every input. An encrypted layer's ocicrypt annotations
// (pubopts, key-provider packets; image/ocicrypt/) go through OcicryptLayerDecryptor::Open and
// the UnWrapKey path behind it; the KMS at its end is a FakeKms (no broker runs inside a
// fuzzer) that answers the private options of a fixed layer key for the seeds' wrapped key.
#include <memory>

#include "common/base64.h"
#include "common/call_context.h"
#include "fuzz/fuzz_util.h"
#include "image/manifest.h"
#include "image/ocicrypt/ocicrypt_layer_decryptor.h"
#include "resources/image/key_unwrapper.h"
#include "resources/kms/fake_kms.h"
#include "resources/kms/kms_provider.h"

namespace {

struct Ocicrypt {
  Ocicrypt() {
    const std::string private_opts = "{\"symkey\":\"" + cdh::Base64StdEncode(std::string(32, 'k')) +
                                     "\",\"cipheroptions\":{\"nonce\":\"" + cdh::Base64StdEncode(std::string(16, 'n')) +
                                     "\"}}";
    kms.Register(
        "kbs", [private_opts](const nlohmann::json&) -> absl::StatusOr<std::unique_ptr<cdh::resources::KmsDecryptor>> {
          return std::make_unique<cdh::resources::FakeKms>("wrapped-layer-key", "kbs:///default/key/layer",
                                                           private_opts);
        });
  }
  cdh::resources::KmsRegistry kms;
  cdh::resources::KeyUnwrapper unwrapper{kms};
  cdh::image::OcicryptLayerDecryptor decryptor{unwrapper};
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cdh::image;  // NOLINT
  static Ocicrypt ocicrypt;
  const std::string_view input = cdh::fuzz::AsView(data, size);
  absl::StatusOr<ImageIndex> index = ParseImageIndex(input);
  if (index.ok()) (void)SelectPlatform(*index, HostPlatform());
  absl::StatusOr<ImageManifest> manifest = ParseImageManifest(input);
  if (manifest.ok()) {
    for (const Descriptor& layer : manifest->layers) {
      (void)LayerCompressionOf(layer.media_type);
      if (ocicrypt.decryptor.IsEncrypted(layer)) (void)ocicrypt.decryptor.Open(layer, cdh::CallContext{});
    }
  }
  (void)ParseImageConfig(input);
  return 0;
}
