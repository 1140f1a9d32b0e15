#include "crypto/aes_key_wrap.h"

#include <openssl/evp.h>

#include "crypto/evp_algorithms.h"
#include "crypto/openssl_util.h"

namespace cdh::crypto {
namespace {

constexpr size_t kMaxWrappedKey = 4096;

absl::StatusOr<EvpCipherCtxPtr> NewCtx(const SecretBytes& kek, bool encrypt) {
  if (kek.size() != 32) return absl::InvalidArgumentError("AES-256 key wrap: KEK must be 32 bytes");
  EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  const EVP_CIPHER* wrap = Aes256WrapCipher();
  if (!ctx || wrap == nullptr ||
      EVP_CipherInit_ex2(ctx.get(), wrap, kek.Reveal().data(), nullptr, encrypt ? 1 : 0, nullptr) != 1) {
    return OpenSslError("AES-256 key wrap init");
  }
  return ctx;
}

}  // namespace

absl::StatusOr<std::string> Aes256KeyWrap(const SecretBytes& kek, const SecretBytes& key) {
  if (key.size() < 16 || key.size() > kMaxWrappedKey || key.size() % 8 != 0) {
    return absl::InvalidArgumentError("AES-256 key wrap: key must be 16..4096 bytes, a multiple of 8");
  }
  auto ctx = NewCtx(kek, true);
  if (!ctx.ok()) return ctx.status();
  std::string out(key.size() + 8, '\0');
  int len = 0;
  if (EVP_CipherUpdate(ctx->get(), reinterpret_cast<unsigned char*>(out.data()), &len, key.Reveal().data(),
                       static_cast<int>(key.size())) != 1 ||
      static_cast<size_t>(len) != out.size()) {
    return OpenSslError("AES-256 key wrap");
  }
  return out;
}

absl::StatusOr<SecretBytes> Aes256KeyUnwrap(const SecretBytes& kek, std::string_view wrapped) {
  if (wrapped.size() < 24 || wrapped.size() > kMaxWrappedKey + 8 || wrapped.size() % 8 != 0) {
    return absl::InvalidArgumentError("AES-256 key unwrap: wrapped key must be 24..4104 bytes, a multiple of 8");
  }
  auto ctx = NewCtx(kek, false);
  if (!ctx.ok()) return ctx.status();
  SecretBytes out(wrapped.size());  // OpenSSL may write up to the input size
  int len = 0;
  if (EVP_CipherUpdate(ctx->get(), out.RevealMutable().data(), &len,
                       reinterpret_cast<const unsigned char*>(wrapped.data()), static_cast<int>(wrapped.size())) != 1 ||
      static_cast<size_t>(len) != wrapped.size() - 8) {
    ClearOpenSslErrors();
    return absl::PermissionDeniedError("AES-256 key unwrap: integrity check failed");
  }
  SecretBytes key(out.Reveal().subspan(0, wrapped.size() - 8));
  return key;
}

}  // namespace cdh::crypto
