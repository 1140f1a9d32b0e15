// Small RAII and error helpers over libcryptsetup shared by the keyslot code (luks2_keyslots.cc)
// and the kernel data path (kernel_data_path.cc).
// Not thread-safe: one CryptLog per crypt_device, used by the thread that owns the device.
#ifndef CDH_STORAGE_CRYPTSETUP_HANDLE_H_
#define CDH_STORAGE_CRYPTSETUP_HANDLE_H_

#include <libcryptsetup.h>

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace cdh::storage {

struct CryptDeviceDeleter {
  void operator()(crypt_device* cd) const { crypt_free(cd); }
};
// Owns a crypt_device (crypt_free on destruction).
using CryptDevicePtr = std::unique_ptr<crypt_device, CryptDeviceDeleter>;

// Keeps libcryptsetup's last error message (never key material) for the cause chain of a failed
// step. Attach it to one device with `Attach`; it must outlive the device.
class CryptLog {
 public:
  void Attach(crypt_device* cd) { crypt_set_log_callback(cd, &CryptLog::Callback, this); }
  const std::string& last() const { return last_; }

  // `code` with "<what> <step> failed (<strerror(-r)>)[: <last message>]".
  absl::Status Error(absl::StatusCode code, std::string_view what, std::string_view step, int r) const;

 private:
  static void Callback(int level, const char* msg, void* usrptr);
  std::string last_;
};

}  // namespace cdh::storage

#endif  // CDH_STORAGE_CRYPTSETUP_HANDLE_H_
