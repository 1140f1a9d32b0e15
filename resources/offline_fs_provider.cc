#include "resources/offline_fs_provider.h"

#include "common/base64.h"
#include "common/file_util.h"
#include "common/json.h"
#include "common/strings.h"

namespace cdh::resources {

std::vector<std::string> OfflineFsProvider::DefaultFiles() {
  return {"/etc/aa-offline_fs_kbc-keys.json", "/etc/aa-offline_fs_kbc-resources.json"};
}

absl::StatusOr<SecretBytes> OfflineFsProvider::GetResource(const ResourceUri& uri, const CallContext& ctx) {
  const std::string key = uri.ResourcePath();
  std::optional<SecretBytes> found;
  for (const std::string& file : files_) {
    auto content = ReadFileBounded(file, kMaxFileSize);
    if (absl::IsNotFound(content.status())) continue;  // a missing file is only skipped
    if (!content.ok()) {
      // The caller's request is fine; the daemon's own files are not.
      return absl::FailedPreconditionError(StrCat("offline_fs_kbc: ", ToStd(content.status().message())));
    }
    nlohmann::json doc = nlohmann::json::parse(*content, nullptr, /*allow_exceptions=*/false);
    SecureWipe(content->data(), content->size());
    if (doc.is_discarded() || !doc.is_object()) {
      return absl::FailedPreconditionError(
          StrCat("offline_fs_kbc: ", file, " is not a JSON object of \"<repository>/<type>/<tag>\": \"<base64>\""));
    }
    auto it = doc.find(key);
    if (it != doc.end()) {
      if (!it->is_string()) {
        return absl::FailedPreconditionError(StrCat("offline_fs_kbc: value of ", key, " in ", file, " must be a string"));
      }
      std::string& b64 = it->get_ref<std::string&>();
      auto bytes = Base64StdDecode(b64);
      SecureWipe(b64.data(), b64.size());
      if (!bytes.ok()) {
        return absl::FailedPreconditionError(
            StrCat("offline_fs_kbc: value of ", key, " in ", file, ": ", bytes.status().message()));
      }
      found = SecretBytes::TakeString(*bytes);  // later files win
    }
    // Wipe every other value of the document before it is freed.
    for (auto& [k, v] : doc.items()) {
      if (v.is_string()) {
        std::string& s = v.get_ref<std::string&>();
        SecureWipe(s.data(), s.size());
      }
    }
  }
  if (!found.has_value()) {
    return absl::NotFoundError(StrCat("offline_fs_kbc: resource not found: ", uri.ToString()));
  }
  return std::move(*found);
}

}  // namespace cdh::resources
