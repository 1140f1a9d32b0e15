#include "crypto/aes.h"

#include <openssl/evp.h>

#include "common/strings.h"
#include "crypto/evp_algorithms.h"
#include "crypto/openssl_util.h"

namespace cdh::crypto {
namespace {

const unsigned char* U8(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

absl::Status CheckKey(const SecretBytes& key) {
  if (key.size() != kAes256KeySize) {
    return absl::InvalidArgumentError(StrCat("AES-256 key must be 32 bytes, got ", key.size()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SecretBytes> Aes256GcmDecrypt(const SecretBytes& key, std::string_view iv, std::string_view ciphertext,
                                             std::string_view tag, std::string_view aad) {
  if (auto s = CheckKey(key); !s.ok()) return s;
  if (iv.empty() || iv.size() > 128) return absl::InvalidArgumentError("AES-GCM IV must be 1..128 bytes");
  if (tag.size() != kGcmTagSize) {
    return absl::InvalidArgumentError(StrCat("AES-GCM tag must be 16 bytes, got ", tag.size()));
  }
  EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  const EVP_CIPHER* gcm = Aes256GcmCipher();
  if (!ctx || gcm == nullptr || EVP_DecryptInit_ex2(ctx.get(), gcm, nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(iv.size()), nullptr) != 1 ||
      EVP_DecryptInit_ex2(ctx.get(), nullptr, key.Reveal().data(), U8(iv), nullptr) != 1) {
    return OpenSslError("AES-GCM init");
  }
  int len = 0;
  if (!aad.empty() && EVP_DecryptUpdate(ctx.get(), nullptr, &len, U8(aad), static_cast<int>(aad.size())) != 1) {
    return OpenSslError("AES-GCM aad");
  }
  SecretBytes out(ciphertext.size());
  if (!ciphertext.empty() && EVP_DecryptUpdate(ctx.get(), out.RevealMutable().data(), &len, U8(ciphertext),
                                               static_cast<int>(ciphertext.size())) != 1) {
    return OpenSslError("AES-GCM decrypt");
  }
  std::string tag_copy(tag);
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kGcmTagSize, tag_copy.data()) != 1) {
    return OpenSslError("AES-GCM tag");
  }
  int final_len = 0;
  if (EVP_DecryptFinal_ex(ctx.get(), out.RevealMutable().data() + len, &final_len) != 1) {
    ClearOpenSslErrors();
    return absl::PermissionDeniedError("AES-GCM authentication failed (wrong key or tampered data)");
  }
  return out;
}

absl::StatusOr<GcmCiphertext> Aes256GcmEncrypt(const SecretBytes& key, std::string_view iv, std::string_view plaintext,
                                               std::string_view aad) {
  if (auto s = CheckKey(key); !s.ok()) return s;
  if (iv.empty() || iv.size() > 128) return absl::InvalidArgumentError("AES-GCM IV must be 1..128 bytes");
  EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  const EVP_CIPHER* gcm = Aes256GcmCipher();
  if (!ctx || gcm == nullptr || EVP_EncryptInit_ex2(ctx.get(), gcm, nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(iv.size()), nullptr) != 1 ||
      EVP_EncryptInit_ex2(ctx.get(), nullptr, key.Reveal().data(), U8(iv), nullptr) != 1) {
    return OpenSslError("AES-GCM init");
  }
  int len = 0;
  if (!aad.empty() && EVP_EncryptUpdate(ctx.get(), nullptr, &len, U8(aad), static_cast<int>(aad.size())) != 1) {
    return OpenSslError("AES-GCM aad");
  }
  GcmCiphertext out;
  out.ciphertext.resize(plaintext.size());
  if (!plaintext.empty() && EVP_EncryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.ciphertext.data()), &len,
                                              U8(plaintext), static_cast<int>(plaintext.size())) != 1) {
    return OpenSslError("AES-GCM encrypt");
  }
  int final_len = 0;
  unsigned char dummy[16];
  if (EVP_EncryptFinal_ex(ctx.get(), dummy, &final_len) != 1) return OpenSslError("AES-GCM final");
  out.tag.resize(kGcmTagSize);
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kGcmTagSize, out.tag.data()) != 1) {
    return OpenSslError("AES-GCM tag");
  }
  return out;
}

absl::StatusOr<SecretBytes> Aes256CtrCrypt(const SecretBytes& key, std::string_view iv, std::string_view input) {
  if (auto s = CheckKey(key); !s.ok()) return s;
  if (iv.size() != 16) return absl::InvalidArgumentError(StrCat("AES-CTR IV must be 16 bytes, got ", iv.size()));
  EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_ctr(), nullptr, key.Reveal().data(), U8(iv)) != 1) {
    return OpenSslError("AES-CTR init");
  }
  SecretBytes out(input.size());
  int len = 0;
  if (!input.empty() &&
      EVP_EncryptUpdate(ctx.get(), out.RevealMutable().data(), &len, U8(input), static_cast<int>(input.size())) != 1) {
    return OpenSslError("AES-CTR");
  }
  return out;
}

}  // namespace cdh::crypto
