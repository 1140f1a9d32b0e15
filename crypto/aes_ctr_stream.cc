#include "crypto/aes_ctr_stream.h"

#include <algorithm>
#include <climits>

#include <openssl/evp.h>

#include "common/strings.h"
#include "crypto/aes.h"
#include "crypto/openssl_util.h"

namespace cdh::crypto {

absl::StatusOr<Aes256CtrStream> Aes256CtrStream::New(const SecretBytes& key, std::string_view initial_counter) {
  if (key.size() != kAes256KeySize) {
    return absl::InvalidArgumentError(StrCat("AES-256 key must be 32 bytes, got ", key.size()));
  }
  if (initial_counter.size() != 16) {
    return absl::InvalidArgumentError(StrCat("AES-CTR initial counter must be 16 bytes, got ", initial_counter.size()));
  }
  EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx || EVP_CipherInit_ex(ctx.get(), EVP_aes_256_ctr(), nullptr, key.Reveal().data(),
                                reinterpret_cast<const unsigned char*>(initial_counter.data()), 1) != 1) {
    return OpenSslError("AES-CTR init");
  }
  return Aes256CtrStream(ctx.release());
}

Aes256CtrStream::Aes256CtrStream(Aes256CtrStream&& o) noexcept : ctx_(o.ctx_) { o.ctx_ = nullptr; }
Aes256CtrStream& Aes256CtrStream::operator=(Aes256CtrStream&& o) noexcept {
  if (this != &o) {
    EVP_CIPHER_CTX_free(static_cast<EVP_CIPHER_CTX*>(ctx_));
    ctx_ = o.ctx_;
    o.ctx_ = nullptr;
  }
  return *this;
}
Aes256CtrStream::~Aes256CtrStream() { EVP_CIPHER_CTX_free(static_cast<EVP_CIPHER_CTX*>(ctx_)); }

absl::Status Aes256CtrStream::Crypt(std::span<const uint8_t> in, std::span<uint8_t> out) {
  if (ctx_ == nullptr) return absl::FailedPreconditionError("AES-CTR stream was moved from");
  if (out.size() < in.size()) return absl::InvalidArgumentError("AES-CTR output buffer is too small");
  size_t done = 0;
  while (done < in.size()) {
    // EVP_CipherUpdate takes an int length; feed at most 1 GiB at a time.
    int chunk = static_cast<int>(std::min<size_t>(in.size() - done, size_t{1} << 30));
    int len = 0;
    if (EVP_CipherUpdate(static_cast<EVP_CIPHER_CTX*>(ctx_), out.data() + done, &len, in.data() + done, chunk) != 1 ||
        len != chunk) {
      return OpenSslError("AES-CTR update");
    }
    done += static_cast<size_t>(chunk);
  }
  return absl::OkStatus();
}

}  // namespace cdh::crypto
