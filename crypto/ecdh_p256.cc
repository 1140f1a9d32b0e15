#include "crypto/ecdh_p256.h"

#include <openssl/evp.h>

#include "common/byte_writer.h"
#include "common/strings.h"
#include "crypto/hash.h"
#include "crypto/openssl_util.h"

namespace cdh::crypto {

absl::StatusOr<SecretBytes> EcdhP256(const EcP256PrivateKey& priv, const EcP256PublicKey& peer) {
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, static_cast<EVP_PKEY*>(priv.native()), nullptr));
  size_t len = 0;
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 ||
      // The peer was validated when the EcP256PublicKey was built (ec_p256.h); OpenSSL's own
      // check here would repeat it at the cost of a scalar multiplication.
      EVP_PKEY_derive_set_peer_ex(ctx.get(), static_cast<EVP_PKEY*>(peer.native()), /*validate_peer=*/0) != 1 ||
      EVP_PKEY_derive(ctx.get(), nullptr, &len) != 1) {
    return OpenSslError("ECDH P-256");
  }
  SecretBytes z(len);
  if (EVP_PKEY_derive(ctx.get(), z.RevealMutable().data(), &len) != 1) return OpenSslError("ECDH P-256");
  if (len != 32) return absl::InternalError("ECDH P-256: unexpected shared secret size");
  return z;
}

absl::StatusOr<SecretBytes> ConcatKdfSha256(const SecretBytes& z, std::string_view algorithm_id,
                                            size_t keydatalen_bits) {
  if (keydatalen_bits == 0 || keydatalen_bits > 256 || keydatalen_bits % 8 != 0) {
    return absl::InvalidArgumentError("Concat KDF: key length must be 8..256 bits, a multiple of 8");
  }
  SecretBytes input;
  input.reserve(4 + z.size() + 4 + algorithm_id.size() + 12);
  AppendU32Be(input, 1);
  input.Append(z.Reveal());
  AppendU32Be(input, static_cast<uint32_t>(algorithm_id.size()));
  input.Append(algorithm_id);
  AppendU32Be(input, 0);  // PartyUInfo: empty (no apu)
  AppendU32Be(input, 0);  // PartyVInfo: empty (no apv)
  AppendU32Be(input, static_cast<uint32_t>(keydatalen_bits));
  SecretBytes key = Sha256Secret(input);
  key.resize(keydatalen_bits / 8);
  return key;
}

}  // namespace cdh::crypto
