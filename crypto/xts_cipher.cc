#include "crypto/xts_cipher.h"

#include <climits>
#include <cstring>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/strings.h"
#include "crypto/openssl_util.h"

namespace cdh::crypto {
namespace {

constexpr size_t kMaxSectorSize = 1 << 20;  // bytes; far above LUKS2's 4096, below INT_MAX

const EVP_CIPHER* CipherForKey(size_t key_size) {
  if (key_size == 64) return EVP_aes_256_xts();
  if (key_size == 32) return EVP_aes_128_xts();
  return nullptr;
}

absl::Status CheckKey(const SecretBytes& key) {
  if (CipherForKey(key.size()) == nullptr) {
    return absl::InvalidArgumentError(StrCat("AES-XTS key must be 32 or 64 bytes, got ", key.size()));
  }
  const size_t half = key.size() / 2;
  if (CRYPTO_memcmp(key.Reveal().data(), key.Reveal().data() + half, half) == 0) {
    return absl::InvalidArgumentError("AES-XTS key halves must differ");
  }
  return absl::OkStatus();
}

absl::Status CheckSizes(std::span<const uint8_t> in, std::span<uint8_t> out, size_t sector_size) {
  if (sector_size < 16 || sector_size > kMaxSectorSize || sector_size % 16 != 0) {
    return absl::InvalidArgumentError(StrCat("XTS sector size must be a multiple of 16 in [16, 1 MiB], got ",
                                             sector_size));
  }
  if (in.size() != out.size()) return absl::InvalidArgumentError("XTS input and output sizes differ");
  if (in.size() % sector_size != 0) {
    return absl::InvalidArgumentError(StrCat("XTS input of ", in.size(), " bytes is not a whole number of ",
                                             sector_size, "-byte sectors"));
  }
  return absl::OkStatus();
}

// 128-bit little-endian tweak of the sector number `n` (high 64 bits zero), dm-crypt plain64.
inline void TweakBytes(uint64_t n, unsigned char iv[16]) {
  for (int i = 0; i < 8; ++i) iv[i] = static_cast<unsigned char>(n >> (8 * i));
  std::memset(iv + 8, 0, 8);
}

int InitKeyed(EVP_CIPHER_CTX* ctx, const EVP_CIPHER* cipher, const unsigned char* key, XtsDirection d) {
  return d == XtsDirection::kEncrypt ? EVP_EncryptInit_ex(ctx, cipher, nullptr, key, nullptr)
                                     : EVP_DecryptInit_ex(ctx, cipher, nullptr, key, nullptr);
}

}  // namespace

struct XtsSectorCipher::State {
  EvpCipherCtxPtr ctx;
};

XtsSectorCipher::XtsSectorCipher(std::unique_ptr<State> state, XtsDirection direction)
    : state_(std::move(state)), direction_(direction) {}
XtsSectorCipher::~XtsSectorCipher() = default;

absl::StatusOr<std::unique_ptr<XtsSectorCipher>> XtsSectorCipher::New(const SecretBytes& key,
                                                                      XtsDirection direction) {
  if (auto s = CheckKey(key); !s.ok()) return s;
  auto state = std::make_unique<State>();
  state->ctx.reset(EVP_CIPHER_CTX_new());
  if (!state->ctx || InitKeyed(state->ctx.get(), CipherForKey(key.size()), key.Reveal().data(), direction) != 1) {
    return OpenSslError("AES-XTS key setup");
  }
  return std::unique_ptr<XtsSectorCipher>(new XtsSectorCipher(std::move(state), direction));
}

absl::Status XtsSectorCipher::CryptSectors(std::span<const uint8_t> in, std::span<uint8_t> out,
                                           size_t sector_size, uint64_t first_tweak, uint64_t tweak_step) {
  if (auto s = CheckSizes(in, out, sector_size); !s.ok()) return s;
  EVP_CIPHER_CTX* ctx = state_->ctx.get();
  const int len = static_cast<int>(sector_size);
  const bool enc = direction_ == XtsDirection::kEncrypt;
  unsigned char iv[16];
  uint64_t tweak = first_tweak;
  for (size_t off = 0; off < in.size(); off += sector_size, tweak += tweak_step) {
    TweakBytes(tweak, iv);
    int outl = 0;
    // Only the tweak changes: cipher and key stay as set in New() (no key schedule here).
    const int ok = enc ? (EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, iv) == 1 &&
                          EVP_EncryptUpdate(ctx, out.data() + off, &outl, in.data() + off, len) == 1)
                       : (EVP_DecryptInit_ex(ctx, nullptr, nullptr, nullptr, iv) == 1 &&
                          EVP_DecryptUpdate(ctx, out.data() + off, &outl, in.data() + off, len) == 1);
    if (!ok || outl != len) return OpenSslError("AES-XTS sector");
  }
  return absl::OkStatus();
}

absl::Status XtsCryptSectorsRekeyingEachSector(const SecretBytes& key, XtsDirection direction,
                                               std::span<const uint8_t> in, std::span<uint8_t> out,
                                               size_t sector_size, uint64_t first_tweak, uint64_t tweak_step) {
  if (auto s = CheckKey(key); !s.ok()) return s;
  if (auto s = CheckSizes(in, out, sector_size); !s.ok()) return s;
  const EVP_CIPHER* cipher = CipherForKey(key.size());
  unsigned char iv[16];
  uint64_t tweak = first_tweak;
  for (size_t off = 0; off < in.size(); off += sector_size, tweak += tweak_step) {
    EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
    TweakBytes(tweak, iv);
    int outl = 0;
    const bool enc = direction == XtsDirection::kEncrypt;
    const int ok =
        ctx && (enc ? EVP_EncryptInit_ex(ctx.get(), cipher, nullptr, key.Reveal().data(), iv) == 1 &&
                          EVP_EncryptUpdate(ctx.get(), out.data() + off, &outl, in.data() + off,
                                            static_cast<int>(sector_size)) == 1
                    : EVP_DecryptInit_ex(ctx.get(), cipher, nullptr, key.Reveal().data(), iv) == 1 &&
                          EVP_DecryptUpdate(ctx.get(), out.data() + off, &outl, in.data() + off,
                                            static_cast<int>(sector_size)) == 1);
    if (!ok) return OpenSslError("AES-XTS sector (rekeying)");
  }
  return absl::OkStatus();
}

}  // namespace cdh::crypto
