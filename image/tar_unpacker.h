// TarUnpacker: extracts one layer's tar stream into a directory, treating the archive as hostile
// (image-pull spec §4; opencontainers/image-spec layer.md). The directory holds the layer alone,
// with whiteouts in overlayfs's native form, ready to be a lower layer of an overlay mount.
//
// Rules enforced (spec §4.4), each a refusal (INVALID_ARGUMENT naming the entry) rather than a
// silent skip:
// - a name with a `..` component; a leading `/` is stripped (the entry stays inside the root);
// - every path is walked component by component from the root with O_NOFOLLOW, so no symlink is
//   ever followed while creating or opening an entry (a symlinked parent directory is refused,
//   however the symlink points);
// - symlink targets are stored verbatim (container paths) and never followed here;
// - hard-link targets must name a non-directory entry already extracted in this layer, found
//   the same way (`..` refused);
// - character and block devices and FIFOs are not created (skipped, counted); the only device
//   made is the overlay whiteout (0:0 character device) for `.wh.<name>`; `.wh..wh..opq` sets
//   `trusted.overlay.opaque=y`; a bare `.wh.` is refused; `trusted.overlay.*` xattrs from the
//   archive are dropped (they would forge whiteouts or redirects);
// - numeric ownership (when running as root), permission bits including setuid/setgid, mtimes
//   and xattrs are kept; a later entry for a path replaces the earlier one, a directory over a
//   directory only updates its metadata.
// Malformed or truncated archives are DATA_LOSS (the diff_id check would fail anyway);
// filesystem failures are INTERNAL, or FAILED_PRECONDITION when whiteouts cannot be made
// (no CAP_MKNOD / trusted xattrs).
#ifndef CDH_IMAGE_TAR_UNPACKER_H_
#define CDH_IMAGE_TAR_UNPACKER_H_

#include <cstdint>
#include <functional>
#include <span>

#include "absl/status/statusor.h"

namespace cdh::image {

struct UnpackStats {
  uint64_t entries = 0;
  uint64_t skipped_devices = 0;  // char/block devices and FIFOs not created
  uint64_t whiteouts = 0;
};

// Supplies the tar stream: the next bytes (valid until the next call), an empty span at the end.
using TarSource = std::function<absl::StatusOr<std::span<const uint8_t>>()>;

// Extracts the archive from `source` into the directory `root_fd` (an O_DIRECTORY fd of an
// empty directory). Stops at the archive's end blocks; the caller drains the rest. Thread-safe
// (no shared state); distinct roots may be unpacked concurrently.
absl::StatusOr<UnpackStats> UnpackTar(const TarSource& source, int root_fd);

}  // namespace cdh::image

#endif  // CDH_IMAGE_TAR_UNPACKER_H_
