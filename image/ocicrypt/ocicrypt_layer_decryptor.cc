#include "image/ocicrypt/ocicrypt_layer_decryptor.h"

#include <vector>

#include "common/base64.h"
#include "common/call_context.h"
#include "common/json.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "crypto/aes.h"
#include "crypto/aes_ctr_stream.h"
#include "crypto/hmac_sha256.h"

namespace cdh::image {
namespace {

using nlohmann::json;

absl::Status Invalid(const Descriptor& layer, std::string_view what) {
  return absl::InvalidArgumentError(StrCat("encrypted layer ", layer.digest.String(), ": ", what));
}

class CtrHmacStream : public LayerStreamDecryptor {
 public:
  CtrHmacStream(crypto::Aes256CtrStream ctr, crypto::HmacSha256 mac, std::string expected_hmac, std::string layer)
      : ctr_(std::move(ctr)), mac_(std::move(mac)), expected_(std::move(expected_hmac)), layer_(std::move(layer)) {}

  absl::Status Update(std::span<const uint8_t> in, std::string& out) override {
    if (finished_) return absl::FailedPreconditionError("layer decryption already finished");
    CDH_RETURN_IF_ERROR(mac_.Update(in));
    size_t start = out.size();
    out.resize(start + in.size());
    return ctr_.Crypt(in, std::span<uint8_t>(reinterpret_cast<uint8_t*>(out.data()) + start, in.size()));
  }

  absl::Status Finish() override {
    if (finished_) return absl::FailedPreconditionError("layer decryption already finished");
    finished_ = true;
    absl::Status s = mac_.Verify(expected_);
    if (!s.ok()) {
      return absl::DataLossError(StrCat("Failed to decrypt layer ", layer_,
                                        ": HMAC-SHA256 over the ciphertext does not match (tampered layer)"));
    }
    return absl::OkStatus();
  }

 private:
  crypto::Aes256CtrStream ctr_;
  crypto::HmacSha256 mac_;
  std::string expected_;
  std::string layer_;
  bool finished_ = false;
};

struct PubOpts {
  std::string hmac;
};

absl::StatusOr<PubOpts> ParsePubOpts(const Descriptor& layer) {
  auto it = layer.annotations.find(std::string(kEncPubOptsAnnotation));
  if (it == layer.annotations.end())
    return Invalid(layer, StrCat("annotation `", kEncPubOptsAnnotation, "` is missing"));
  auto text = Base64StdDecode(it->second);
  if (!text.ok()) return Invalid(layer, "pubopts is not standard base64");
  auto opts = ParseJson(*text, "pubopts");
  if (!opts.ok() || !opts->is_object()) return Invalid(layer, "pubopts is not a JSON object");
  auto cipher = opts->find("cipher");
  if (cipher == opts->end() || !cipher->is_string()) return Invalid(layer, "pubopts.cipher is missing");
  if (cipher->get<std::string>() != kOcicryptCipher) {
    return absl::UnimplementedError(StrCat("encrypted layer ", layer.digest.String(), ": cipher `",
                                           Sanitize(cipher->get<std::string>(), 40), "` not supported (only ",
                                           kOcicryptCipher, ")"));
  }
  auto hmac = opts->find("hmac");
  if (hmac == opts->end() || !hmac->is_string()) return Invalid(layer, "pubopts.hmac is missing");
  auto mac = Base64StdDecode(hmac->get<std::string>());
  if (!mac.ok() || mac->size() != crypto::kHmacSha256Size)
    return Invalid(layer, "pubopts.hmac must be 32 bytes in base64");
  return PubOpts{*mac};
}

// The key-provider recipients, `attestation-agent` first.
std::vector<std::string> ProviderPackets(const Descriptor& layer, bool& other_recipients) {
  std::vector<std::string> preferred, rest;
  other_recipients = false;
  for (const auto& [name, value] : layer.annotations) {
    if (!name.starts_with(kEncKeysPrefix)) continue;
    if (!name.starts_with(kEncKeysProviderPrefix)) {
      other_recipients = true;
      continue;
    }
    auto& list = name == kCocoKeyProviderAnnotation ? preferred : rest;
    for (std::string_view packet : StrSplit(value, ',')) {
      if (!packet.empty()) list.emplace_back(packet);
    }
  }
  preferred.insert(preferred.end(), rest.begin(), rest.end());
  return preferred;
}

// The key-provider protocol input for UnWrapKey (cdh-api.md §10; containers/ocicrypt
// keywrap/keyprovider/keyprovider.go): `annotation` is the standard base64 of the packet bytes.
std::string UnwrapInput(const std::string& packet_bytes) {
  json input = {
      {"op", "keyunwrap"},
      {"keywrapparams", {{"ec", nullptr}, {"optsdata", nullptr}}},
      {"keyunwrapparams", {{"dc", {{"Parameters", json::object()}}}, {"annotation", Base64StdEncode(packet_bytes)}}}};
  return DumpJson(input);
}

}  // namespace

absl::StatusOr<std::unique_ptr<LayerStreamDecryptor>> OcicryptLayerDecryptor::Open(const Descriptor& layer,
                                                                                   const CallContext& ctx) {
  if (!IsEncrypted(layer))
    return Invalid(layer, StrCat("media type `", Sanitize(layer.media_type, 96), "` is not encrypted"));
  CDH_ASSIGN_OR_RETURN(PubOpts pubopts, ParsePubOpts(layer));
  bool other_recipients = false;
  std::vector<std::string> packets = ProviderPackets(layer, other_recipients);
  if (packets.empty()) {
    if (other_recipients) {
      return absl::UnimplementedError(
          StrCat("encrypted layer ", layer.digest.String(),
                 ": no key-provider recipient (jwe, pgp and pkcs7 recipients are not "
                 "supported; the layer key must be wrapped for provider:attestation-agent)"));
    }
    return Invalid(layer, "no `org.opencontainers.image.enc.keys.*` annotation");
  }
  absl::Status last = absl::UnknownError("no recipient tried");
  SecretBytes optsdata;
  bool unwrapped = false;
  for (const std::string& packet_b64 : packets) {
    auto packet = Base64StdDecode(packet_b64);
    if (!packet.ok()) {
      last = Invalid(layer, "a key-provider recipient is not standard base64");
      continue;
    }
    auto key = unwrapper_.UnwrapLayerKey(UnwrapInput(*packet), ctx);
    if (!key.ok()) {
      last = key.status();
      if (last.code() == absl::StatusCode::kDeadlineExceeded) break;
      continue;
    }
    optsdata = *std::move(key);
    unwrapped = true;
    break;
  }
  if (!unwrapped) return Annotate(last, StrCat("Failed to decrypt layer ", layer.digest.String(), ": key unwrap"));

  auto opts = ParseJson(optsdata.RevealString(), "layer private options");
  if (!opts.ok() || !opts->is_object()) return Invalid(layer, "the unwrapped private options are not a JSON object");
  auto symkey_it = opts->find("symkey");
  auto cipheroptions = opts->find("cipheroptions");
  if (symkey_it == opts->end() || !symkey_it->is_string())
    return Invalid(layer, "private options: `symkey` is missing");
  if (cipheroptions == opts->end() || !cipheroptions->is_object() || !cipheroptions->contains("nonce") ||
      !(*cipheroptions)["nonce"].is_string()) {
    return Invalid(layer, "private options: `cipheroptions.nonce` is missing");
  }
  auto symkey_text = Base64StdDecode(symkey_it->get_ref<const std::string&>());
  if (!symkey_text.ok()) return Invalid(layer, "private options: `symkey` is not standard base64");
  SecretBytes symkey = SecretBytes::TakeString(*symkey_text);
  if (symkey.size() != crypto::kAes256KeySize) return Invalid(layer, "private options: `symkey` must be 32 bytes");
  auto nonce = Base64StdDecode((*cipheroptions)["nonce"].get<std::string>());
  if (!nonce.ok() || nonce->size() != 16) return Invalid(layer, "private options: `nonce` must be 16 bytes in base64");

  CDH_ASSIGN_OR_RETURN(crypto::Aes256CtrStream ctr, crypto::Aes256CtrStream::New(symkey, *nonce));
  CDH_ASSIGN_OR_RETURN(crypto::HmacSha256 mac, crypto::HmacSha256::New(symkey));
  return std::unique_ptr<LayerStreamDecryptor>(
      new CtrHmacStream(std::move(ctr), std::move(mac), std::move(pubopts.hmac), layer.digest.String()));
}

}  // namespace cdh::image
