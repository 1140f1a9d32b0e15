#include "common/base64.h"

#include "absl/strings/escaping.h"
#include "common/strings.h"

namespace cdh {
namespace {

bool IsAlnum(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

}  // namespace

std::string Base64UrlEncode(std::string_view bytes) {
  std::string out;
  absl::WebSafeBase64Escape(absl::string_view(bytes.data(), bytes.size()), &out);  // no padding
  return out;
}
std::string Base64UrlEncode(std::span<const uint8_t> bytes) {
  return Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}
std::string Base64StdEncode(std::string_view bytes) {
  return absl::Base64Escape(absl::string_view(bytes.data(), bytes.size()));
}
std::string Base64StdEncode(std::span<const uint8_t> bytes) {
  return Base64StdEncode(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

absl::StatusOr<std::string> Base64UrlDecode(std::string_view text) {
  for (char c : text) {
    if (c == '=') {
      return absl::InvalidArgumentError("padding '=' is not allowed: base64url without padding expected");
    }
    if (c == '+' || c == '/') {
      return absl::InvalidArgumentError(
          StrCat("character '", std::string(1, c), "' is standard base64: base64url without padding expected"));
    }
    if (!IsAlnum(c) && c != '-' && c != '_') {
      return absl::InvalidArgumentError("invalid character: base64url without padding expected");
    }
  }
  if (text.size() % 4 == 1) {
    return absl::InvalidArgumentError("invalid length: base64url without padding expected");
  }
  std::string out;
  if (!absl::WebSafeBase64Unescape(absl::string_view(text.data(), text.size()), &out) || Base64UrlEncode(out) != text) {
    return absl::InvalidArgumentError("non-canonical trailing bits: base64url without padding expected");
  }
  return out;
}

absl::StatusOr<std::string> Base64StdDecode(std::string_view text) {
  size_t pad = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '=') {
      ++pad;
      continue;
    }
    if (pad > 0) return absl::InvalidArgumentError("data after padding: standard base64 expected");
    if (c == '-' || c == '_') {
      return absl::InvalidArgumentError("base64url character: standard base64 with padding expected");
    }
    if (!IsAlnum(c) && c != '+' && c != '/') {
      return absl::InvalidArgumentError("invalid character: standard base64 with padding expected");
    }
  }
  if (text.size() % 4 != 0 || pad > 2) {
    return absl::InvalidArgumentError("invalid length or padding: standard base64 with padding expected");
  }
  std::string out;
  if (!absl::Base64Unescape(absl::string_view(text.data(), text.size()), &out) || Base64StdEncode(out) != text) {
    return absl::InvalidArgumentError("non-canonical trailing bits: standard base64 with padding expected");
  }
  return out;
}

SecretBytes Base64UrlEncodeSecret(const SecretBytes& bytes) {
  std::string text = Base64UrlEncode(bytes.Reveal());
  return SecretBytes::TakeString(text);
}

absl::StatusOr<SecretBytes> Base64UrlDecodeSecret(std::string_view text) {
  absl::StatusOr<std::string> bytes = Base64UrlDecode(text);
  if (!bytes.ok()) return bytes.status();
  return SecretBytes::TakeString(*bytes);
}

absl::StatusOr<SecretBytes> Base64StdDecodeSecret(std::string_view text) {
  absl::StatusOr<std::string> bytes = Base64StdDecode(text);
  if (!bytes.ok()) return bytes.status();
  return SecretBytes::TakeString(*bytes);
}

}  // namespace cdh
