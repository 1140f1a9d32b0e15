// GpgKeyring: a throw-away OpenPGP keyring for verifying simple-signing image signatures through
// GPGME (containers/image signature/mech_gpgme.go does the same with a temporary GNUPGHOME).
//
// New() creates a private temporary GNUPGHOME (mode 0700, `no-autostart`: no gpg-agent is ever
// started) under `parent_dir`, imports the given
// public keys (binary or ASCII-armored keyrings, several keys each allowed) and remembers the
// fingerprints it imported; the destructor removes the directory and everything in it.
// Verify() checks one OpenPGP signed message (one-pass signature + literal data, possibly
// compressed — what `skopeo --sign-by` writes) and returns its literal data only when exactly one
// signature is present, it is good, and it was made by one of the imported keys (a subkey
// counts for its primary key).
//
// Codes: New: INVALID_ARGUMENT no key could be imported; FAILED_PRECONDITION GnuPG (the `gpg`
// engine GPGME drives) is not installed; UNAVAILABLE the temporary directory cannot be made.
// Verify: PERMISSION_DENIED the signature is malformed, bad, made by another key, or by a
// revoked/expired key; INTERNAL on a GPGME failure.
// Neither copyable nor movable (New returns it in a unique_ptr); not thread-safe.
#ifndef CDH_IMAGE_POLICY_GPG_KEYRING_H_
#define CDH_IMAGE_POLICY_GPG_KEYRING_H_

#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace cdh::image {

class GpgKeyring {
 public:
  static absl::StatusOr<std::unique_ptr<GpgKeyring>> New(const std::vector<std::string>& keys,
                                                         const std::string& parent_dir);
  ~GpgKeyring();
  GpgKeyring(const GpgKeyring&) = delete;
  GpgKeyring& operator=(const GpgKeyring&) = delete;

  struct Verified {
    std::string payload;      // the literal data
    std::string fingerprint;  // primary key fingerprint (hex, upper case)
  };
  absl::StatusOr<Verified> Verify(std::string_view signed_message);

  const std::set<std::string>& fingerprints() const { return fingerprints_; }
  const std::string& home() const { return home_; }

 private:
  GpgKeyring() = default;
  std::string home_;
  void* ctx_ = nullptr;  // gpgme_ctx_t
  std::set<std::string> fingerprints_;
};

}  // namespace cdh::image

#endif  // CDH_IMAGE_POLICY_GPG_KEYRING_H_
