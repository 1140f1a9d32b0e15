#include "crypto/xts_cipher.h"

#include <climits>
#include <cstring>

#include <openssl/core_dispatch.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/provider.h>

#include "common/strings.h"
#include "crypto/openssl_util.h"
#include "crypto/xts_vaes.h"

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
    return absl::InvalidArgumentError(
        StrCat("XTS sector size must be a multiple of 16 in [16, 1 MiB], got ", sector_size));
  }
  if (in.size() != out.size()) return absl::InvalidArgumentError("XTS input and output sizes differ");
  if (in.size() % sector_size != 0) {
    return absl::InvalidArgumentError(
        StrCat("XTS input of ", in.size(), " bytes is not a whole number of ", sector_size, "-byte sectors"));
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

// The AES-XTS implementation of the provider that EVP itself would use, called through its
// dispatch table (OSSL_PROVIDER_query_operation, OpenSSL 3 public API). Same code as the EVP
// path, without EVP_*Init_ex's per-call parameter lookups (an OSSL_PARAM query of the IV length
// by name on every call: ~70 ns, a third of the time of a 512-byte sector). Resolved once per
// process and immutable afterwards; the EVP path stays as the fallback and as the reference
// the tests compare against.
struct ProviderXts {
  EVP_CIPHER* cipher = nullptr;  // keeps the provider loaded for the life of the process
  void* provctx = nullptr;
  OSSL_FUNC_cipher_newctx_fn* newctx = nullptr;
  OSSL_FUNC_cipher_freectx_fn* freectx = nullptr;
  OSSL_FUNC_cipher_encrypt_init_fn* einit = nullptr;
  OSSL_FUNC_cipher_decrypt_init_fn* dinit = nullptr;
  OSSL_FUNC_cipher_update_fn* update = nullptr;
  bool ok() const { return newctx && freectx && einit && dinit && update && provctx; }
};

const ProviderXts* ResolveProviderXts(const char* name) {
  ProviderXts p;
  p.cipher = EVP_CIPHER_fetch(nullptr, name, nullptr);
  if (p.cipher == nullptr) {
    ClearOpenSslErrors();
    return nullptr;
  }
  const OSSL_PROVIDER* prov = EVP_CIPHER_get0_provider(p.cipher);
  p.provctx = prov ? OSSL_PROVIDER_get0_provider_ctx(prov) : nullptr;
  int no_cache = 0;
  const OSSL_ALGORITHM* algs = prov ? OSSL_PROVIDER_query_operation(prov, OSSL_OP_CIPHER, &no_cache) : nullptr;
  const size_t name_len = std::strlen(name);
  for (const OSSL_ALGORITHM* a = algs; a != nullptr && a->algorithm_names != nullptr; ++a) {
    // algorithm_names is "AES-256-XTS:1.3.111.2.1619.0.1.2": the first name must match exactly.
    if (std::strncmp(a->algorithm_names, name, name_len) != 0 ||
        (a->algorithm_names[name_len] != '\0' && a->algorithm_names[name_len] != ':')) {
      continue;
    }
    for (const OSSL_DISPATCH* d = a->implementation; d != nullptr && d->function_id != 0; ++d) {
      switch (d->function_id) {
        case OSSL_FUNC_CIPHER_NEWCTX:
          p.newctx = OSSL_FUNC_cipher_newctx(d);
          break;
        case OSSL_FUNC_CIPHER_FREECTX:
          p.freectx = OSSL_FUNC_cipher_freectx(d);
          break;
        case OSSL_FUNC_CIPHER_ENCRYPT_INIT:
          p.einit = OSSL_FUNC_cipher_encrypt_init(d);
          break;
        case OSSL_FUNC_CIPHER_DECRYPT_INIT:
          p.dinit = OSSL_FUNC_cipher_decrypt_init(d);
          break;
        case OSSL_FUNC_CIPHER_UPDATE:
          p.update = OSSL_FUNC_cipher_update(d);
          break;
        default:
          break;
      }
    }
    break;
  }
  if (algs != nullptr) OSSL_PROVIDER_unquery_operation(prov, OSSL_OP_CIPHER, algs);
  if (!p.ok()) {
    EVP_CIPHER_free(p.cipher);
    return nullptr;
  }
  return new ProviderXts(p);  // lives for the process
}

const ProviderXts* ProviderXtsFor(size_t key_size) {
  static const ProviderXts* const k256 = ResolveProviderXts("AES-256-XTS");
  static const ProviderXts* const k128 = ResolveProviderXts("AES-128-XTS");
  return key_size == 64 ? k256 : k128;
}

}  // namespace

struct XtsSectorCipher::State {
  std::unique_ptr<internal::XtsVaesKernel> vaes;  // the VAES kernel, when the CPU has it
  EvpCipherCtxPtr ctx;                            // EVP path (fallback)
  const ProviderXts* fast = nullptr;              // provider path, when resolved
  void* algctx = nullptr;                         // the provider's keyed context
  ~State() {
    if (algctx != nullptr) fast->freectx(algctx);  // the provider wipes the key schedule
  }
};

XtsSectorCipher::XtsSectorCipher(std::unique_ptr<State> state, XtsDirection direction)
    : state_(std::move(state)), direction_(direction) {}
XtsSectorCipher::~XtsSectorCipher() = default;

absl::StatusOr<std::unique_ptr<XtsSectorCipher>> XtsSectorCipher::New(const SecretBytes& key, XtsDirection direction) {
  return NewImpl(key, direction, /*allow_vaes=*/true);
}

absl::StatusOr<std::unique_ptr<XtsSectorCipher>> XtsSectorCipher::NewOpenSslForTest(const SecretBytes& key,
                                                                                    XtsDirection direction) {
  return NewImpl(key, direction, /*allow_vaes=*/false);
}

absl::StatusOr<std::unique_ptr<XtsSectorCipher>> XtsSectorCipher::NewImpl(const SecretBytes& key,
                                                                          XtsDirection direction, bool allow_vaes) {
  if (auto s = CheckKey(key); !s.ok()) return s;
  auto state = std::make_unique<State>();
  if (allow_vaes) {
    state->vaes = internal::XtsVaesKernel::New(key.Reveal(), direction == XtsDirection::kDecrypt);
    if (state->vaes != nullptr) {
      return std::unique_ptr<XtsSectorCipher>(new XtsSectorCipher(std::move(state), direction));
    }
  }
  if (const ProviderXts* fast = ProviderXtsFor(key.size()); fast != nullptr) {
    void* algctx = fast->newctx(fast->provctx);
    if (algctx != nullptr) {
      auto init = direction == XtsDirection::kEncrypt ? fast->einit : fast->dinit;
      state->fast = fast;
      state->algctx = algctx;
      if (init(algctx, key.Reveal().data(), key.size(), nullptr, 0, nullptr) == 1) {
        return std::unique_ptr<XtsSectorCipher>(new XtsSectorCipher(std::move(state), direction));
      }
      fast->freectx(algctx);
      state->algctx = nullptr;
      state->fast = nullptr;
      ClearOpenSslErrors();
    }
  }
  state->ctx.reset(EVP_CIPHER_CTX_new());
  if (!state->ctx || InitKeyed(state->ctx.get(), CipherForKey(key.size()), key.Reveal().data(), direction) != 1) {
    return OpenSslError("AES-XTS key setup");
  }
  return std::unique_ptr<XtsSectorCipher>(new XtsSectorCipher(std::move(state), direction));
}

absl::Status XtsSectorCipher::CryptSectors(std::span<const uint8_t> in, std::span<uint8_t> out, size_t sector_size,
                                           uint64_t first_tweak, uint64_t tweak_step) {
  if (auto s = CheckSizes(in, out, sector_size); !s.ok()) return s;
  if (state_->vaes != nullptr) {
    if (!in.empty()) {
      state_->vaes->CryptSectors(in.data(), out.data(), in.size() / sector_size, sector_size, first_tweak, tweak_step);
    }
    return absl::OkStatus();
  }
  const bool enc = direction_ == XtsDirection::kEncrypt;
  unsigned char iv[16];
  uint64_t tweak = first_tweak;
  if (state_->fast != nullptr) {
    const ProviderXts& f = *state_->fast;
    auto init = enc ? f.einit : f.dinit;
    for (size_t off = 0; off < in.size(); off += sector_size, tweak += tweak_step) {
      TweakBytes(tweak, iv);
      size_t outl = 0;
      // Only the tweak changes: the key schedule stays as set in New().
      if (init(state_->algctx, nullptr, 0, iv, sizeof(iv), nullptr) != 1 ||
          f.update(state_->algctx, out.data() + off, &outl, sector_size, in.data() + off, sector_size) != 1 ||
          outl != sector_size) {
        return OpenSslError("AES-XTS sector");
      }
    }
    return absl::OkStatus();
  }
  EVP_CIPHER_CTX* ctx = state_->ctx.get();
  const int len = static_cast<int>(sector_size);
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

XtsImplementation XtsSectorCipher::implementation() const {
  if (state_->vaes != nullptr) return XtsImplementation::kVaesAvx2;
  return state_->fast != nullptr ? XtsImplementation::kOpenSslProvider : XtsImplementation::kOpenSslEvp;
}

const char* XtsImplementationName(XtsImplementation impl) {
  switch (impl) {
    case XtsImplementation::kVaesAvx2:
      return "vaes-avx2";
    case XtsImplementation::kOpenSslProvider:
      return "openssl-provider";
    case XtsImplementation::kOpenSslEvp:
      return "openssl-evp";
  }
  return "unknown";
}

absl::Status XtsCryptSectorsRekeyingEachSectorForTest(const SecretBytes& key, XtsDirection direction,
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
    const int ok = ctx && (enc ? EVP_EncryptInit_ex(ctx.get(), cipher, nullptr, key.Reveal().data(), iv) == 1 &&
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
