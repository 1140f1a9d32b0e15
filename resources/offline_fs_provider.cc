#include "resources/offline_fs_provider.h"

#include "common/base64.h"
#include "common/file_util.h"
#include "common/json.h"
#include "common/strings.h"

namespace cdh::resources {
namespace {

// The parsed document's values are the JSON library's copies of secrets: wiped before it is freed.
void WipeStrings(nlohmann::json& doc) {
  for (auto& [k, v] : doc.items()) {
    if (v.is_string()) SecretBytes::WipeForeign(v.get_ref<std::string&>());
  }
}

}  // namespace

std::vector<std::string> OfflineFsProvider::DefaultFiles() {
  return {"/etc/aa-offline_fs_kbc-keys.json", "/etc/aa-offline_fs_kbc-resources.json"};
}

absl::StatusOr<SecretBytes> OfflineFsProvider::GetResource(const ResourceUri& uri, const CallContext& ctx) {
  const std::string key = uri.ResourcePath();
  std::optional<SecretBytes> found;
  for (const std::string& file : files_) {
    absl::StatusOr<SecretBytes> content = ReadSecretFile(file, kMaxFileSize);
    if (absl::IsNotFound(content.status())) continue;  // a missing file is only skipped
    if (!content.ok()) {
      // The caller's request is fine; the daemon's own files are not.
      return absl::FailedPreconditionError(StrCat("offline_fs_kbc: ", ToStd(content.status().message())));
    }
    nlohmann::json doc = nlohmann::json::parse(content->RevealString(), nullptr, /*allow_exceptions=*/false);
    content->Clear();
    if (doc.is_discarded() || !doc.is_object()) {
      return absl::FailedPreconditionError(
          StrCat("offline_fs_kbc: ", file, " is not a JSON object of \"<repository>/<type>/<tag>\": \"<base64>\""));
    }
    auto it = doc.find(key);
    if (it != doc.end()) {
      if (!it->is_string()) {
        return absl::FailedPreconditionError(
            StrCat("offline_fs_kbc: value of ", key, " in ", file, " must be a string"));
      }
      absl::StatusOr<SecretBytes> bytes = Base64StdDecodeSecret(it->get_ref<const std::string&>());
      if (!bytes.ok()) {
        WipeStrings(doc);
        return absl::FailedPreconditionError(
            StrCat("offline_fs_kbc: value of ", key, " in ", file, ": ", bytes.status().message()));
      }
      found = std::move(*bytes);  // later files win
    }
    WipeStrings(doc);
  }
  if (!found.has_value()) {
    return absl::NotFoundError(StrCat("offline_fs_kbc: resource not found: ", uri.ToString()));
  }
  return std::move(*found);
}

}  // namespace cdh::resources
