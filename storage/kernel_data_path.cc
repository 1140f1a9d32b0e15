// KernelDataPath: dm-crypt through libcryptsetup (see data_path.h).
//
// NOT TESTED HERE: the build machines' kernel has no device-mapper, so no
// test can activate a mapping; this file is kept small on purpose. It activates from the
// validated metadata copy (sealed memfd as the detached header) with the volume key we already
// recovered, never re-reading the on-disk header.
#include <fcntl.h>
#include <libcryptsetup.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/strings.h"
#include "storage/data_path.h"

namespace cdh::storage {
namespace {

class KernelVolume : public OpenVolume {
 public:
  explicit KernelVolume(std::string name) : name_(std::move(name)), path_(StrCat("/dev/mapper/", name_)) {}
  ~KernelVolume() override { (void)Close(); }
  const std::string& device_path() const override { return path_; }
  void Abandon() override {
    if (!name_.empty()) crypt_deactivate_by_name(nullptr, name_.c_str(), CRYPT_DEACTIVATE_DEFERRED);
  }
  absl::Status Close() override {
    if (name_.empty()) return absl::OkStatus();
    const int r = crypt_deactivate(nullptr, name_.c_str());
    if (r < 0 && r != -ENODEV) return absl::UnavailableError(StrCat("dm-crypt deactivate failed: ", std::strerror(-r)));
    name_.clear();
    return absl::OkStatus();
  }

 private:
  std::string name_;
  std::string path_;
};

class KernelDataPath : public DataPath {
 public:
  // dm-integrity needs an integrity-formatted segment, which the metadata allow-list refuses
  // today; until that is added, integrity is not offered on this path either.
  bool SupportsIntegrity() const override { return false; }
  std::string_view name() const override { return "kernel"; }

  absl::StatusOr<std::unique_ptr<OpenVolume>> Open(const DataPathRequest& req, const SecretBytes& volume_key) override {
    const int mem = memfd_create("cdh-luks2-header", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (mem < 0) return absl::InternalError("memfd_create failed");
    const std::string& bytes = req.metadata->bytes;
    const bool written = write(mem, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()) &&
                         fcntl(mem, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) == 0;
    if (!written) {
      close(mem);
      return absl::InternalError("cannot prepare the header copy");
    }
    const std::string hdr = StrCat("/proc/self/fd/", mem);
    crypt_device* cd = nullptr;
    int r = crypt_init_data_device(&cd, hdr.c_str(), req.device_path.c_str());
    if (r >= 0) r = crypt_metadata_locking(cd, 0);
    if (r >= 0) r = crypt_load(cd, CRYPT_LUKS2, nullptr);
    if (r >= 0) {
      r = crypt_activate_by_volume_key(cd, req.name.c_str(), reinterpret_cast<const char*>(volume_key.Reveal().data()),
                                       volume_key.size(), 0);
    }
    crypt_free(cd);
    close(mem);
    if (r < 0) return absl::UnavailableError(StrCat("dm-crypt activation failed: ", std::strerror(-r)));
    return std::unique_ptr<OpenVolume>(new KernelVolume(req.name));
  }
};

}  // namespace

std::unique_ptr<DataPath> NewKernelDataPath() { return std::make_unique<KernelDataPath>(); }

bool KernelDataPathAvailable() {
  // The node alone proves nothing: libdevmapper creates it on first use even when the kernel
  // has no device-mapper (then opening it fails with ENODEV).
  const int fd = open("/dev/mapper/control", O_RDWR | O_CLOEXEC);
  if (fd < 0) return false;
  close(fd);
  return true;
}

}  // namespace cdh::storage
