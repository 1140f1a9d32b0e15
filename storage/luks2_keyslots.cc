#include "storage/luks2_keyslots.h"

#include <fcntl.h>
#include <libcryptsetup.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "absl/time/clock.h"
#include "common/strings.h"

namespace cdh::storage {
namespace {

struct CryptDeviceDeleter {
  void operator()(crypt_device* cd) const { crypt_free(cd); }
};
using CryptDevicePtr = std::unique_ptr<crypt_device, CryptDeviceDeleter>;

// libcryptsetup's messages (never key material) for the cause chain; one per crypt_device.
struct LogSink {
  std::string last;
};
void LogToSink(int level, const char* msg, void* usrptr) {
  if (level == CRYPT_LOG_ERROR && usrptr != nullptr && msg != nullptr) {
    auto* sink = static_cast<LogSink*>(usrptr);
    sink->last = msg;
    while (!sink->last.empty() && sink->last.back() == '\n') sink->last.pop_back();
  }
}

// libcryptsetup's negative errno, classified by docs/errors.md: a device or metadata that does
// not fit (EINVAL, EBUSY, ENOSPC, a read-only or missing-permission device) cannot be helped by a
// retry; I/O and memory errors may pass; a missing device is NOT_FOUND; anything else is ours.
absl::Status CryptError(std::string_view step, int r, const LogSink& sink) {
  std::string msg =
      StrCat("libcryptsetup ", step, " failed (", std::strerror(-r), ")", sink.last.empty() ? "" : ": ", sink.last);
  switch (-r) {
    case EINVAL:
    case EBUSY:
    case ENOSPC:
    case ENOTBLK:
    case EROFS:
    case EACCES:
    case EPERM:
      return absl::FailedPreconditionError(msg);
    case EIO:
    case ENOMEM:
    case EAGAIN:
      return absl::UnavailableError(msg);
    case ENOENT:
    case ENODEV:
    case ENXIO:
      return absl::NotFoundError(msg);
    default:
      return absl::InternalError(msg);
  }
}

class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

absl::StatusOr<SecretBytes> RecoverVolumeKey(const Luks2Metadata& md, const SecretBytes& passphrase,
                                             absl::Time deadline) {
  // The validated copy becomes a sealed in-memory file: nobody (not even we) can change it after
  // validation, and libcryptsetup reads only it.
  FdCloser mem(memfd_create("cdh-luks2-header", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (mem.get() < 0) return absl::InternalError(StrCat("memfd_create failed: ", std::strerror(errno)));
  size_t done = 0;
  while (done < md.bytes.size()) {
    ssize_t n = write(mem.get(), md.bytes.data() + done, md.bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return absl::InternalError("writing the header copy failed");
    done += static_cast<size_t>(n);
  }
  if (fcntl(mem.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0) {
    return absl::InternalError(StrCat("sealing the header copy failed: ", std::strerror(errno)));
  }
  const std::string path = StrCat("/proc/self/fd/", mem.get());

  LogSink sink;
  crypt_device* raw = nullptr;
  int r = crypt_init(&raw, path.c_str());
  if (r < 0) return CryptError("init", r, sink);
  CryptDevicePtr cd(raw);
  crypt_set_log_callback(cd.get(), LogToSink, &sink);
  // The copy is private to this call: no cross-process metadata lock is needed (or possible).
  r = crypt_metadata_locking(cd.get(), 0);
  if (r < 0) return CryptError("metadata_locking", r, sink);
  r = crypt_load(cd.get(), CRYPT_LUKS2, nullptr);
  if (r < 0) {
    return absl::InvalidArgumentError(StrCat("libcryptsetup refused the LUKS2 metadata (", std::strerror(-r), ")",
                                             sink.last.empty() ? "" : ": ", sink.last));
  }
  // libcryptsetup must read the header as we did.
  const char* cipher = crypt_get_cipher(cd.get());
  const char* mode = crypt_get_cipher_mode(cd.get());
  if (cipher == nullptr || mode == nullptr || std::strcmp(cipher, "aes") != 0 ||
      std::strcmp(mode, "xts-plain64") != 0 || crypt_get_volume_key_size(cd.get()) != static_cast<int>(md.key_size) ||
      crypt_get_data_offset(cd.get()) * 512 != md.data_offset ||
      crypt_get_sector_size(cd.get()) != static_cast<int>(md.sector_size)) {
    return absl::InvalidArgumentError("libcryptsetup's reading of the LUKS2 metadata differs from the validated one");
  }
  crypt_params_integrity ip{};
  const bool has_integrity = crypt_get_integrity_info(cd.get(), &ip) == 0 && ip.integrity != nullptr;
  if (has_integrity != !md.integrity.empty() || (has_integrity && md.integrity != ip.integrity)) {
    return absl::InvalidArgumentError("libcryptsetup's reading of the LUKS2 metadata differs from the validated one");
  }
  // Keyslot by keyslot rather than CRYPT_ANY_SLOT, so the caller's deadline is checked between
  // key derivations: libcryptsetup cannot stop a KDF once started, so one keyslot's KDF (bounded
  // by Luks2Limits: iterations, argon2 time and memory) is the most a deadline can be overrun by.
  SecretBytes key(md.key_size);
  size_t key_size = key.size();
  int tried = 0;
  r = -ENOENT;
  for (int slot = 0; slot < crypt_keyslot_max(CRYPT_LUKS2); ++slot) {
    const crypt_keyslot_info info = crypt_keyslot_status(cd.get(), slot);
    if (info != CRYPT_SLOT_ACTIVE && info != CRYPT_SLOT_ACTIVE_LAST) continue;
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          StrCat("the deadline passed while deriving LUKS2 keyslot keys (", tried, " keyslots tried)"));
    }
    ++tried;
    key_size = key.size();
    r = crypt_volume_key_get(cd.get(), slot, reinterpret_cast<char*>(key.RevealMutable().data()), &key_size,
                             reinterpret_cast<const char*>(passphrase.Reveal().data()), passphrase.size());
    if (r >= 0 || (r != -EPERM && r != -ENOENT)) break;
  }
  if (r == -EPERM || r == -ENOENT) {
    return absl::PermissionDeniedError("no LUKS2 keyslot opens with the given key");
  }
  if (r < 0) return CryptError("volume_key_get", r, sink);
  if (key_size != md.key_size) return absl::InternalError("volume key has an unexpected size");
  return key;
}

absl::Status FormatLuks2Detached(const std::string& header_path, const std::string& data_device,
                                 const SecretBytes& passphrase, const Luks2FormatOptions& options) {
  LogSink sink;
  crypt_device* raw = nullptr;
  int r = crypt_init_data_device(&raw, header_path.c_str(), data_device.c_str());
  if (r < 0) return CryptError("init", r, sink);
  CryptDevicePtr cd(raw);
  crypt_set_log_callback(cd.get(), LogToSink, &sink);
  crypt_pbkdf_type pbkdf{};
  pbkdf.type = CRYPT_KDF_PBKDF2;
  pbkdf.hash = "sha256";
  pbkdf.iterations = options.pbkdf2_iterations;
  pbkdf.flags = CRYPT_PBKDF_NO_BENCHMARK;
  r = crypt_set_pbkdf_type(cd.get(), &pbkdf);
  if (r < 0) return CryptError("set_pbkdf_type", r, sink);
  crypt_params_luks2 params{};
  params.sector_size = options.sector_size;
  params.data_device = nullptr;  // already given to crypt_init_data_device
  params.data_alignment = 0;
  size_t volume_key_size = options.key_bits / 8;
  if (!options.integrity.empty()) {
    if (options.integrity != "hmac(sha256)") return absl::InternalError("unsupported integrity algorithm");
    params.integrity = options.integrity.c_str();
    volume_key_size += 32;  // the HMAC-SHA256 key follows the AES-XTS key
  }
  r = crypt_format(cd.get(), CRYPT_LUKS2, "aes", "xts-plain64", nullptr, nullptr, volume_key_size, &params);
  if (r < 0) return CryptError("format", r, sink);
  r = crypt_keyslot_add_by_volume_key(cd.get(), CRYPT_ANY_SLOT, nullptr, 0,
                                      reinterpret_cast<const char*>(passphrase.Reveal().data()), passphrase.size());
  if (r < 0) return CryptError("keyslot_add_by_volume_key", r, sink);
  return absl::OkStatus();
}

}  // namespace cdh::storage
