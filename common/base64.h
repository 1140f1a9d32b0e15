// Strict base64 codecs (RFC 4648).
//
// Decoders accept exactly one encoding each and reject anything else with INVALID_ARGUMENT and a
// message that names the encoding expected (a lenient decoder would let a mis-encoded secret
// through as garbage):
// - base64url without padding: alphabet A-Z a-z 0-9 - _, no '=', canonical trailing bits
//   (JWS/JWE members; cdh-api.md §7.1, kbs-protocol.md §3).
// - standard base64 with padding: alphabet A-Z a-z 0-9 + /, '=' padding to a multiple of 4,
//   canonical trailing bits (envelope fields, offline_fs_kbc values; cdh-api.md §8.1, §9.4).
// Thread-safe (pure functions).
#ifndef CDH_COMMON_BASE64_H_
#define CDH_COMMON_BASE64_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace cdh {

std::string Base64UrlEncode(std::string_view bytes);
std::string Base64UrlEncode(std::span<const uint8_t> bytes);
std::string Base64StdEncode(std::string_view bytes);
std::string Base64StdEncode(std::span<const uint8_t> bytes);

// INVALID_ARGUMENT when `text` is not canonical unpadded base64url; the message names the
// offending character class (padding, '+' or '/', other) so the caller can fix the input.
absl::StatusOr<std::string> Base64UrlDecode(std::string_view text);
// INVALID_ARGUMENT when `text` is not canonical padded standard base64.
absl::StatusOr<std::string> Base64StdDecode(std::string_view text);

}  // namespace cdh

#endif  // CDH_COMMON_BASE64_H_
