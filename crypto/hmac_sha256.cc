#include "crypto/hmac_sha256.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "crypto/openssl_util.h"

namespace cdh::crypto {

absl::StatusOr<HmacSha256> HmacSha256::New(const SecretBytes& key) {
  if (key.empty()) return absl::InvalidArgumentError("HMAC key must not be empty");
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (mac == nullptr) return OpenSslError("EVP_MAC_fetch HMAC");
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                         OSSL_PARAM_construct_end()};
  if (ctx == nullptr || EVP_MAC_init(ctx, key.Reveal().data(), key.size(), params) != 1) {
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    return OpenSslError("HMAC-SHA256 init");
  }
  return HmacSha256(mac, ctx);
}

HmacSha256::HmacSha256(HmacSha256&& o) noexcept : mac_(o.mac_), ctx_(o.ctx_), finished_(o.finished_) {
  o.mac_ = nullptr;
  o.ctx_ = nullptr;
}
HmacSha256& HmacSha256::operator=(HmacSha256&& o) noexcept {
  if (this != &o) {
    Free();
    mac_ = o.mac_;
    ctx_ = o.ctx_;
    finished_ = o.finished_;
    o.mac_ = nullptr;
    o.ctx_ = nullptr;
  }
  return *this;
}
HmacSha256::~HmacSha256() { Free(); }

void HmacSha256::Free() {
  EVP_MAC_CTX_free(static_cast<EVP_MAC_CTX*>(ctx_));  // wipes the keyed state
  EVP_MAC_free(static_cast<EVP_MAC*>(mac_));
  ctx_ = nullptr;
  mac_ = nullptr;
}

absl::Status HmacSha256::Update(std::span<const uint8_t> data) {
  if (finished_ || ctx_ == nullptr) return absl::FailedPreconditionError("HMAC already finalised");
  if (!data.empty() && EVP_MAC_update(static_cast<EVP_MAC_CTX*>(ctx_), data.data(), data.size()) != 1) {
    return OpenSslError("HMAC update");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> HmacSha256::Final() {
  if (finished_ || ctx_ == nullptr) return absl::FailedPreconditionError("HMAC already finalised");
  finished_ = true;
  std::string out(kHmacSha256Size, '\0');
  size_t len = 0;
  if (EVP_MAC_final(static_cast<EVP_MAC_CTX*>(ctx_), reinterpret_cast<unsigned char*>(out.data()), &len, out.size()) !=
          1 ||
      len != kHmacSha256Size) {
    return OpenSslError("HMAC final");
  }
  return out;
}

absl::Status HmacSha256::Verify(std::string_view expected) {
  auto tag = Final();
  if (!tag.ok()) return tag.status();
  if (!ConstantTimeEquals(*tag, expected)) return absl::DataLossError("HMAC-SHA256 does not match");
  return absl::OkStatus();
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace cdh::crypto
