#include "image/registry_auth.h"

#include "common/base64.h"
#include "common/json.h"
#include "common/strings.h"

namespace cdh::image {
namespace {

std::string NormaliseHost(std::string_view key) {
  if (key.starts_with("https://"))
    key.remove_prefix(8);
  else if (key.starts_with("http://"))
    key.remove_prefix(7);
  key = key.substr(0, key.find('/'));
  std::string host(key);
  if (host == "index.docker.io" || host == "registry-1.docker.io") host = "docker.io";
  return host;
}

}  // namespace

absl::StatusOr<std::unique_ptr<RegistryAuthFile>> RegistryAuthFile::Parse(const SecretBytes& json) {
  auto parsed = ParseJson(json.RevealString(), "registry auth file");
  if (!parsed.ok() || !parsed->is_object()) {
    return absl::InvalidArgumentError("Invalid registry auth file: not a JSON object");
  }
  auto auths = parsed->find("auths");
  if (auths == parsed->end() || !auths->is_object()) {
    return absl::InvalidArgumentError("Invalid registry auth file: no `auths` object");
  }
  auto file = std::unique_ptr<RegistryAuthFile>(new RegistryAuthFile());
  for (auto it = auths->begin(); it != auths->end(); ++it) {
    std::string key = it.key();
    const auto& entry = it.value();
    auto auth = entry.is_object() ? entry.find("auth") : entry.end();
    if (!entry.is_object() || auth == entry.end() || !auth->is_string()) {
      return absl::InvalidArgumentError(
          StrCat("Invalid registry auth file: entry `", Sanitize(key, 80), "` has no `auth` string"));
    }
    auto decoded = Base64StdDecode(auth->get_ref<const std::string&>());
    if (!decoded.ok()) {
      return absl::InvalidArgumentError(
          StrCat("Invalid registry auth file: entry `", Sanitize(key, 80), "`: `auth` is not base64"));
    }
    SecretBytes plain = SecretBytes::TakeString(*decoded);
    std::string_view text = plain.RevealString();
    size_t colon = text.find(':');
    if (colon == std::string_view::npos) {
      return absl::InvalidArgumentError(
          StrCat("Invalid registry auth file: entry `", Sanitize(key, 80), "`: `auth` is not user:password"));
    }
    std::string_view password = text.substr(colon + 1);
    while (!password.empty() && (password.front() == '\n' || password.front() == '\r')) password.remove_prefix(1);
    while (!password.empty() && (password.back() == '\n' || password.back() == '\r')) password.remove_suffix(1);
    file->entries_[key] = RegistryCredentials{std::string(text.substr(0, colon)), SecretBytes::FromString(password)};
  }
  return file;
}

std::optional<RegistryCredentials> RegistryAuthFile::Lookup(const ImageReference& ref) const {
  // 1. Exact keys, most specific first.
  std::string candidate = ref.Name();
  while (true) {
    if (auto it = entries_.find(candidate); it != entries_.end()) return it->second.Clone();
    size_t slash = candidate.rfind('/');
    if (slash == std::string::npos) break;
    candidate.resize(slash);
  }
  // 2. Keys normalised to a host.
  std::string want = NormaliseHost(ref.registry());
  for (const auto& [key, creds] : entries_) {
    if (NormaliseHost(key) == want) return creds.Clone();
  }
  return std::nullopt;
}

}  // namespace cdh::image
