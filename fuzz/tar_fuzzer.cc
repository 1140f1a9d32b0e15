// Layer tar streams (image/tar_unpacker.h): entry names (`..`, absolute, `.wh.` whiteouts),
// symlinks and hard links, PAX headers and xattrs, truncation, unpacked by the real UnpackTar
// into a fresh directory per input, fed in chunks whose sizes the input picks. Property: nothing
// appears beside the layer root (an entry that escaped it would).
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <span>

#include "common/testing/temp_dir.h"
#include "fuzz/fuzz_util.h"
#include "image/tar_unpacker.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const cdh::testing::TempDir sandbox("cdh-fuzz-tar");
  if (size == 0) return 0;
  const std::filesystem::path root = std::filesystem::path(sandbox.path()) / "root";
  std::error_code ec;
  std::filesystem::create_directory(root, ec);
  FUZZ_CHECK(!ec);
  const int root_fd = open(root.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  FUZZ_CHECK(root_fd >= 0);

  // Byte 0: the chunk size (1..256 bytes, or everything at once for 0).
  const size_t chunk = data[0] == 0 ? size : data[0];
  std::span<const uint8_t> rest(data + 1, size - 1);
  cdh::image::TarSource source = [&]() -> absl::StatusOr<std::span<const uint8_t>> {
    const size_t n = std::min(chunk, rest.size());
    std::span<const uint8_t> out = rest.first(n);
    rest = rest.subspan(n);
    return out;
  };
  (void)cdh::image::UnpackTar(source, root_fd);
  close(root_fd);

  size_t entries = 0;
  for (const auto& entry : std::filesystem::directory_iterator(sandbox.path())) {
    FUZZ_CHECK(entry.path().filename() == "root");
    ++entries;
  }
  FUZZ_CHECK(entries == 1);
  std::filesystem::remove_all(root, ec);
  FUZZ_CHECK(!ec);
  return 0;
}
