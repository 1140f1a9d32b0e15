// CosignFixture: makes cosign-format signatures for unit tests and stores them in an
// InMemoryRegistry the way cosign lays them out (sigstore/cosign specs/SIGNATURE_SPEC.md): tag
// `sha256-<hex>.sig`, an OCI manifest with one layer per signature of media type
// application/vnd.dev.cosign.simplesigning.v1+json, the base64 DER ECDSA signature in annotation
// dev.cosignproject.cosign/signature. The DER encoding and the SPKI PEM are written here by hand,
// independently of the code under test. CosignKey is move-only; not thread-safe.
#ifndef CDH_IMAGE_POLICY_TESTING_COSIGN_FIXTURE_H_
#define CDH_IMAGE_POLICY_TESTING_COSIGN_FIXTURE_H_

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "common/base64.h"
#include "crypto/ec_p256.h"
#include "image/policy/testing/in_memory_registry.h"
#include "nlohmann/json.hpp"

namespace cdh::image::testing {

// DER INTEGER of a 32-byte big-endian unsigned value.
inline std::string DerInteger(std::string v) {
  while (v.size() > 1 && v[0] == '\0' && !(static_cast<uint8_t>(v[1]) & 0x80)) v.erase(0, 1);
  if (static_cast<uint8_t>(v[0]) & 0x80) v.insert(v.begin(), '\0');
  return std::string("\x02", 1) + static_cast<char>(v.size()) + v;
}

// DER ECDSA-Sig-Value from a raw 64-byte r||s signature.
inline std::string RawToDer(const std::string& raw) {
  std::string body = DerInteger(raw.substr(0, 32)) + DerInteger(raw.substr(32, 32));
  return std::string("\x30", 1) + static_cast<char>(body.size()) + body;
}

class CosignKey {
 public:
  CosignKey() : key_(*crypto::EcP256PrivateKey::Generate()) {}

  // SubjectPublicKeyInfo PEM of the P-256 public key.
  std::string PublicPem() const {
    crypto::EcP256PublicKey pub = key_.PublicKey();
    std::string spki = absl::HexStringToBytes("3059301306072a8648ce3d020106082a8648ce3d030107034200") +
                       std::string("\x04", 1) + pub.X() + pub.Y();
    std::string b64 = Base64StdEncode(spki);
    std::string pem = "-----BEGIN PUBLIC KEY-----\n";
    for (size_t i = 0; i < b64.size(); i += 64) pem += b64.substr(i, 64) + "\n";
    return pem + "-----END PUBLIC KEY-----\n";
  }
  // DER ECDSA P-256 / SHA-256 signature over `payload`.
  std::string SignDer(const std::string& payload) const { return RawToDer(*key_.SignEs256(payload)); }

 private:
  crypto::EcP256PrivateKey key_;
};

inline std::string CosignPayload(const std::string& docker_reference, const std::string& digest,
                                 const std::string& type = "cosign container image signature") {
  nlohmann::json p = {{"critical",
                       {{"identity", {{"docker-reference", docker_reference}}},
                        {"image", {{"docker-manifest-digest", digest}}},
                        {"type", type}}},
                      {"optional", nullptr}};
  return p.dump();
}

struct CosignLayer {
  std::string payload;
  std::string signature_b64;
  std::string media_type = "application/vnd.dev.cosign.simplesigning.v1+json";
};

// Stores `layers` as the `.sig` attachment of `signed_digest` in repository `name`.
inline void PutSignatures(InMemoryRegistry& registry, const std::string& name, const Digest& signed_digest,
                          const std::vector<CosignLayer>& layers) {
  std::string config = R"({"architecture":"","os":"","config":{},"rootfs":{"type":"layers","diff_ids":[]}})";
  Digest config_digest = registry.PutBlob(config);
  nlohmann::json manifest = {{"schemaVersion", 2},
                             {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                             {"config",
                              {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                               {"digest", config_digest.String()},
                               {"size", config.size()}}},
                             {"layers", nlohmann::json::array()}};
  for (const CosignLayer& l : layers) {
    Digest d = registry.PutBlob(l.payload);
    manifest["layers"].push_back({{"mediaType", l.media_type},
                                  {"digest", d.String()},
                                  {"size", l.payload.size()},
                                  {"annotations", {{"dev.cosignproject.cosign/signature", l.signature_b64}}}});
  }
  std::string tag = signed_digest.String();
  tag[tag.find(':')] = '-';
  registry.PutManifest(name, tag + ".sig", manifest.dump());
}

}  // namespace cdh::image::testing

#endif  // CDH_IMAGE_POLICY_TESTING_COSIGN_FIXTURE_H_
