// Sealed secrets (UnsealSecret's input, cdh-api.md §7-8) through the daemon's own SecretUnsealer:
// the JWS split, header and payload JSON, signature verification against a real key, the vault
// and envelope payloads, and the legacy unsigned form (with verification off).
//
// Fakes: the broker is a FakeResourceProvider holding the spec vectors' verification key and
// secrets, the KMS a FakeKms (no broker or cloud KMS runs inside a fuzzer); everything the
// input reaches before them is the product's code. The kid cache is off so each input is
// judged alone.
#include <map>
#include <memory>

#include "common/call_context.h"
#include "common/file_util.h"
#include "common/testing/temp_dir.h"
#include "fuzz/fuzz_util.h"
#include "nlohmann/json.hpp"
#include "resources/fake_resource_provider.h"
#include "resources/kms/fake_kms.h"
#include "resources/secret/envelope.h"
#include "resources/secret/sealed_secret.h"
#include "resources/secret/secret_unsealer.h"
#include "tests/spec_vectors.h"

namespace cdh::resources {
namespace {

std::string Dek0To31() {
  std::string dek(32, '\0');
  for (int i = 0; i < 32; ++i) dek[i] = static_cast<char>(i);
  return dek;
}

struct Harness {
  Harness() {
    nlohmann::json pub = nlohmann::json::parse(testing::kTestPrivateJwk);
    pub.erase("d");
    key_dir.Write("test-key", pub.dump());
    provider.Put("default/signing-key/sealed-secret", testing::kKataPublicJwk);
    provider.Put("default/sealed-secret/test", "unsealed_secret");
    provider.Put("one/2/trois", "trois\n");
    for (const char* name : {"aliyun", "kbs"}) {
      kms.Register(name, [](const nlohmann::json&) -> absl::StatusOr<std::unique_ptr<KmsDecryptor>> {
        return std::make_unique<FakeKms>("opaque-kms-ciphertext", "key-test", Dek0To31());
      });
    }
    for (bool skip : {false, true}) {
      std::map<std::string, std::unique_ptr<SecretGetter>> getters;
      getters["kbs"] = std::make_unique<KbsSecretGetter>(provider);
      SecretUnsealerOptions options{skip, key_dir.path()};
      options.kid_cache_ttl = absl::ZeroDuration();
      (skip ? unverified : verified) =
          std::make_unique<SecretUnsealer>(options, provider, std::move(getters), &envelope);
    }
  }
  cdh::testing::TempDir key_dir{"cdh-fuzz-sealed"};
  FakeResourceProvider provider;
  KmsRegistry kms;
  KmsEnvelopeDecryptor envelope{kms};
  std::unique_ptr<SecretUnsealer> verified, unverified;
};

}  // namespace
}  // namespace cdh::resources

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cdh::resources;  // NOLINT
  static Harness harness;
  const std::string_view input = cdh::fuzz::AsView(data, size);
  (void)harness.verified->Unseal(input, cdh::CallContext{});
  (void)harness.unverified->Unseal(input, cdh::CallContext{});
  // The payload parser alone, on the raw bytes too (a signature guards it in the daemon, but a
  // legacy secret's payload reaches it unsigned).
  (void)ParseSecretPayload(input);
  absl::StatusOr<SignedSealedSecret> parsed = ParseSignedSealedSecret(input);
  if (parsed.ok()) (void)ParseSecretPayload(parsed->payload_json);
  return 0;
}
