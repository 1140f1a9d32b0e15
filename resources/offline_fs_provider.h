// OfflineFsProvider: the `offline_fs_kbc` KBC (cdh-api.md §9.4). Resources come from local JSON
// files mapping "<repository>/<type>/<tag>" to standard base64 values, e.g.
//   {"default/key/1":"HUlOu8NWz8si11OZUzUJMnjiq/iZyHBJZMSD3BaqgMc="}
//
// The files are re-read on every call (as upstream does, so edits take effect at once). A missing
// file is skipped; an unreadable or malformed one fails the call with FAILED_PRECONDITION naming
// the file (the request is fine; the daemon's own files are not). With
// duplicate keys the later file wins. Plugin, authority and query of the URI are ignored.
// Thread-safe (no mutable state). Neither copyable nor movable.
#ifndef CDH_RESOURCES_OFFLINE_FS_PROVIDER_H_
#define CDH_RESOURCES_OFFLINE_FS_PROVIDER_H_

#include <string>
#include <vector>

#include "resources/resource_provider.h"

namespace cdh::resources {

class OfflineFsProvider : public ResourceProvider {
 public:
  // The upstream default files, in load order (cdh-api.md §9.4).
  static std::vector<std::string> DefaultFiles();
  // Largest resource file read, in bytes.
  static constexpr size_t kMaxFileSize = 16 << 20;

  explicit OfflineFsProvider(std::vector<std::string> files) : files_(std::move(files)) {}
  OfflineFsProvider(const OfflineFsProvider&) = delete;
  OfflineFsProvider& operator=(const OfflineFsProvider&) = delete;

  // NOT_FOUND when no file has the key; FAILED_PRECONDITION for an unreadable or malformed file
  // or value.
  absl::StatusOr<SecretBytes> GetResource(const ResourceUri& uri, const CallContext& ctx) override;
  std::string_view name() const override { return "offline_fs_kbc"; }

 private:
  const std::vector<std::string> files_;
};

}  // namespace cdh::resources

#endif  // CDH_RESOURCES_OFFLINE_FS_PROVIDER_H_
