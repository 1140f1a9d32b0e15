// KernelDataPath: dm-crypt (and dm-integrity) through libcryptsetup (see data_path.h).
//
// It activates from the validated metadata copy (a sealed memfd as the detached header) with the
// volume key we already recovered, never re-reading the on-disk header. The build machines have
// no device-mapper; tests/guest runs this file in a guest kernel under qemu.
#include <fcntl.h>
#include <libcryptsetup.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "common/strings.h"
#include "storage/cryptsetup_handle.h"
#include "storage/data_path.h"

namespace cdh::storage {
namespace {

// Bytes written per request while wiping an integrity volume (cryptsetup's default block).
constexpr size_t kWipeBlockBytes = 1 << 20;

absl::Status DmError(std::string_view step, int r, const CryptLog& log) {
  return log.Error(absl::StatusCode::kUnavailable, "dm-crypt", step, r);
}

// Removes the mapping `name` and, for integrity volumes, the dm-integrity device below it
// (libcryptsetup finds it through the dm dependencies). ENODEV: already gone.
int Deactivate(const std::string& name, uint32_t flags) {
  const int r = crypt_deactivate_by_name(nullptr, name.c_str(), flags);
  return r == -ENODEV ? 0 : r;
}

class KernelVolume : public OpenVolume {
 public:
  explicit KernelVolume(std::string name) : name_(std::move(name)), path_(StrCat("/dev/mapper/", name_)) {}
  ~KernelVolume() override { (void)Close(); }
  const std::string& device_path() const override { return path_; }
  void Abandon() override {
    if (name_.empty()) return;
    Deactivate(name_, CRYPT_DEACTIVATE_DEFERRED);  // the kernel removes it when its last user goes
    name_.clear();
  }
  absl::Status Close() override {
    if (name_.empty()) return absl::OkStatus();
    const int r = Deactivate(name_, 0);
    if (r == -EBUSY) return absl::FailedPreconditionError(StrCat(path_, " is busy"));
    if (r < 0) return absl::UnavailableError(StrCat("dm-crypt deactivate failed: ", std::strerror(-r)));
    name_.clear();
    return absl::OkStatus();
  }

 private:
  std::string name_;
  std::string path_;
};

class KernelDataPath : public DataPath {
 public:
  bool SupportsIntegrity() const override { return true; }
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
    absl::Status s = Activate(StrCat("/proc/self/fd/", mem), req, volume_key);
    close(mem);
    if (!s.ok()) return s;
    return std::unique_ptr<OpenVolume>(new KernelVolume(req.name));
  }

 private:
  static absl::Status Activate(const std::string& header, const DataPathRequest& req, const SecretBytes& volume_key) {
    CryptLog sink;
    crypt_device* raw = nullptr;
    int r = crypt_init_data_device(&raw, header.c_str(), req.device_path.c_str());
    if (r < 0) return DmError("init", r, sink);
    CryptDevicePtr cd(raw);
    sink.Attach(cd.get());
    r = crypt_metadata_locking(cd.get(), 0);  // the copy is private to this call
    if (r >= 0) r = crypt_load(cd.get(), CRYPT_LUKS2, nullptr);
    if (r < 0) return DmError("load", r, sink);
    const char* key = reinterpret_cast<const char*>(volume_key.Reveal().data());
    if (req.wipe) {
      // As `cryptsetup luksFormat --integrity`: a first activation without the dm-integrity
      // journal (nothing to protect yet, half the writes), every sector zeroed through
      // dm-crypt so its tag is valid, then the normal activation below.
      r = crypt_activate_by_volume_key(cd.get(), req.name.c_str(), key, volume_key.size(),
                                       CRYPT_ACTIVATE_PRIVATE | CRYPT_ACTIVATE_NO_JOURNAL);
      if (r < 0) return DmError("activation for the wipe", r, sink);
      const std::string path = StrCat("/dev/mapper/", req.name);
      r = crypt_wipe(cd.get(), path.c_str(), CRYPT_WIPE_ZERO, 0, 0, kWipeBlockBytes, 0, nullptr, nullptr);
      const int d = Deactivate(req.name, 0);
      if (r < 0) return DmError("wipe", r, sink);
      if (d < 0) return DmError("deactivation after the wipe", d, sink);
    }
    r = crypt_activate_by_volume_key(cd.get(), req.name.c_str(), key, volume_key.size(), 0);
    if (r == -EEXIST) {
      return absl::FailedPreconditionError(
          StrCat("a device-mapper device named ", Sanitize(req.name), " already exists (mapperName)"));
    }
    if (r < 0) return DmError("activation", r, sink);
    return absl::OkStatus();
  }
};

}  // namespace

std::unique_ptr<DataPath> NewKernelDataPath() { return std::make_unique<KernelDataPath>(); }

}  // namespace cdh::storage
