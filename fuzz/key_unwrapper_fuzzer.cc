// UnWrapKey (ocicrypt's key provider protocol, resources/image/key_unwrapper.h): the JSON
// request and the base64 annotation packet inside it, as the keyprovider service receives them.
// The KMS behind it is a FakeKms (no broker or cloud KMS runs inside a fuzzer) registered as
// "kbs" and "aliyun"; everything before the KMS call is the product's.
#include <memory>

#include "common/call_context.h"
#include "fuzz/fuzz_util.h"
#include "resources/image/key_unwrapper.h"
#include "resources/kms/fake_kms.h"
#include "resources/kms/kms_provider.h"

namespace {

cdh::resources::KmsRegistry& Registry() {
  static cdh::resources::KmsRegistry* registry = [] {
    auto* r = new cdh::resources::KmsRegistry();
    for (const char* name : {"kbs", "aliyun"}) {
      r->Register(name, [](const nlohmann::json&) -> absl::StatusOr<std::unique_ptr<cdh::resources::KmsDecryptor>> {
        return std::make_unique<cdh::resources::FakeKms>("wrapped-layer-key", "kbs:///default/key/layer",
                                                         std::string(32, '\x42'));
      });
    }
    return r;
  }();
  return *registry;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static cdh::resources::KeyUnwrapper unwrapper(Registry());
  (void)unwrapper.Unwrap(cdh::fuzz::AsView(data, size), cdh::CallContext{});
  return 0;
}
