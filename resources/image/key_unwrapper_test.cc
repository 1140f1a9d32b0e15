#include "resources/image/key_unwrapper.h"

#include <gtest/gtest.h>

#include "common/base64.h"
#include "common/testing/status_matchers.h"
#include "crypto/aes.h"
#include "resources/fake_resource_provider.h"
#include "resources/kms/fake_kms.h"
#include "resources/kms/kbs_kms.h"

namespace cdh::resources {
namespace {

using ::cdh::testing::StatusIs;

using ::cdh::testing::IsOk;

class KeyUnwrapperTest : public ::testing::Test {
 protected:
  KeyUnwrapperTest() {
    provider_.Put("default/image-kek/1", std::string(32, '\x11'));
    kms_.Register("kbs", [this](const nlohmann::json&) -> absl::StatusOr<std::unique_ptr<KmsDecryptor>> {
      return std::make_unique<KbsKms>(provider_);
    });
    kms_.Register("aliyun", [](const nlohmann::json&) -> absl::StatusOr<std::unique_ptr<KmsDecryptor>> {
      return std::make_unique<FakeKms>("wrapped-by-kms", "kms-key", "layer-key-from-kms");
    });
  }

  // An AnnotationPacket wrapping `layer_key` with the KEK, as image encryption tools write it.
  nlohmann::json Packet(const std::string& layer_key) {
    std::string iv = "ivivivivivIV";
    auto ct = crypto::Aes256GcmEncrypt(SecretBytes::FromString(std::string(32, '\x11')), iv, layer_key, "");
    return {{"kid", "kbs:///default/image-kek/1"},
            {"wrapped_data", Base64StdEncode(ct->ciphertext + ct->tag)},
            {"iv", Base64StdEncode(iv)},
            {"wrap_type", "A256GCM"}};
  }
  static std::string Input(const nlohmann::json& packet) {
    return nlohmann::json{{"op", "keyunwrap"},
                          {"keywrapparams", {{"ec", nullptr}, {"optsdata", nullptr}}},
                          {"keyunwrapparams", {{"dc", nullptr}, {"annotation", Base64StdEncode(packet.dump())}}}}
        .dump();
  }
  absl::StatusOr<SecretBytes> Unwrap(const std::string& input) { return unwrapper_.Unwrap(input, CallContext{}); }

  FakeResourceProvider provider_;
  KmsRegistry kms_;
  KeyUnwrapper unwrapper_{kms_};
};

TEST_F(KeyUnwrapperTest, V1PacketGivesOptsdataAsByteArray) {
  auto out = Unwrap(Input(Packet(std::string("\x00\x01\xfe\xff", 4))));
  ASSERT_THAT(out, IsOk());
  EXPECT_EQ(out->RevealString(), R"({"keyunwrapresults":{"optsdata":[0,1,254,255]}})");
}

TEST_F(KeyUnwrapperTest, V2PacketWithKmsProvider) {
  nlohmann::json packet = {{"kid", "kms-key"},
                           {"wrapped_data", Base64StdEncode(std::string("wrapped-by-kms"))},
                           {"version", "0.1.0"},
                           {"provider", "aliyun"},
                           {"provider_settings", nlohmann::json::object()},
                           {"annotations", nlohmann::json::object()}};
  auto key = unwrapper_.UnwrapLayerKey(Input(packet), CallContext{});
  ASSERT_THAT(key, IsOk());
  EXPECT_EQ(key->RevealString(), "layer-key-from-kms");
}

TEST_F(KeyUnwrapperTest, NegativeTable) {
  auto without = [&](const char* field) {
    nlohmann::json p = Packet("k");
    p.erase(field);
    return Input(p);
  };
  auto with = [&](const char* field, nlohmann::json v) {
    nlohmann::json p = Packet("k");
    p[field] = v;
    return Input(p);
  };
  nlohmann::json no_annotation = nlohmann::json::parse(Input(Packet("k")));
  no_annotation["keyunwrapparams"].erase("annotation");
  nlohmann::json no_op = nlohmann::json::parse(Input(Packet("k")));
  no_op.erase("op");
  auto with_op = [&](nlohmann::json op) {
    nlohmann::json input = nlohmann::json::parse(Input(Packet("k")));
    input["op"] = op;
    return input.dump();
  };
  nlohmann::json bad_b64 = nlohmann::json::parse(Input(Packet("k")));
  bad_b64["keyunwrapparams"]["annotation"] = "!!!";
  nlohmann::json not_json = nlohmann::json::parse(Input(Packet("k")));
  not_json["keyunwrapparams"]["annotation"] = Base64StdEncode(std::string("{oops"));
  struct Case {
    const char* name;
    std::string input;
    absl::StatusCode code;
    const char* part;
  };
  std::vector<Case> cases = {
      {"bad JSON", "{", absl::StatusCode::kInvalidArgument, "not valid JSON"},
      {"missing annotation", no_annotation.dump(), absl::StatusCode::kInvalidArgument, "no AnnotationPacket"},
      {"missing op", no_op.dump(), absl::StatusCode::kInvalidArgument, "`op`"},
      {"op keywrap", with_op("keywrap"), absl::StatusCode::kInvalidArgument, "`op`"},
      {"op empty", with_op(""), absl::StatusCode::kInvalidArgument, "`op`"},
      {"op case", with_op("KeyUnwrap"), absl::StatusCode::kInvalidArgument, "`op`"},
      {"op not a string", with_op(1), absl::StatusCode::kInvalidArgument, "`op`"},
      {"annotation not base64", bad_b64.dump(), absl::StatusCode::kInvalidArgument, "annotation"},
      {"annotation not JSON", not_json.dump(), absl::StatusCode::kInvalidArgument, "not valid JSON"},
      {"no kid", without("kid"), absl::StatusCode::kInvalidArgument, "kid"},
      {"no wrapped_data", without("wrapped_data"), absl::StatusCode::kInvalidArgument, "wrapped_data"},
      {"no iv for kbs", without("iv"), absl::StatusCode::kInvalidArgument, "iv"},
      {"wrong version", with("version", "0.2.0"), absl::StatusCode::kInvalidArgument, "version"},
      {"unknown provider", with("provider", "vault9"), absl::StatusCode::kUnimplemented, "vault9"},
      {"wrong version, other provider",
       [&] {
         nlohmann::json p = Packet("k");
         p["provider"] = "aliyun";
         p["version"] = "0.2.0";
         return Input(p);
       }(),
       absl::StatusCode::kInvalidArgument, "version"},
      {"kid not a URI", with("kid", "image-kek"), absl::StatusCode::kInvalidArgument, "kid"},
      {"unknown wrap_type", with("wrap_type", "A128KW"), absl::StatusCode::kInvalidArgument, "wrap_type"},
      {"missing KEK", with("kid", "kbs:///default/image-kek/2"), absl::StatusCode::kNotFound, "image-kek/2"},
      {"tampered wrapped_data", with("wrapped_data", Base64StdEncode(std::string(20, 'x'))),
       absl::StatusCode::kPermissionDenied, "authentication"},
  };
  for (const Case& c : cases) {
    auto r = Unwrap(c.input);
    EXPECT_THAT(r, StatusIs(c.code)) << c.name;
    EXPECT_THAT(std::string(r.status().message()), ::testing::HasSubstr(c.part)) << c.name << ": " << r.status();
  }
}

}  // namespace
}  // namespace cdh::resources
