#include "image/policy/gpg_keyring.h"

#include <gpgme.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <mutex>

#include "common/file_util.h"
#include "common/strings.h"

namespace cdh::image {
namespace {

gpgme_ctx_t Ctx(void* p) { return static_cast<gpgme_ctx_t>(p); }

// GPGME must be initialised once per process before any context is created.
void InitGpgme() {
  static std::once_flag once;
  std::call_once(once, [] { gpgme_check_version(nullptr); });
}

struct DataDeleter {
  void operator()(gpgme_data_t d) const { gpgme_data_release(d); }
};
using DataPtr = std::unique_ptr<std::remove_pointer_t<gpgme_data_t>, DataDeleter>;

absl::StatusOr<DataPtr> DataFrom(std::string_view bytes) {
  gpgme_data_t d = nullptr;
  if (gpgme_data_new_from_mem(&d, bytes.data(), bytes.size(), /*copy=*/1) != GPG_ERR_NO_ERROR) {
    return absl::InternalError("gpgme_data_new_from_mem failed");
  }
  return DataPtr(d);
}

std::string ErrorText(gpgme_error_t err) { return StrCat(gpgme_strsource(err), ": ", gpgme_strerror(err)); }

}  // namespace

absl::StatusOr<std::unique_ptr<GpgKeyring>> GpgKeyring::New(const std::vector<std::string>& keys,
                                                            const std::string& parent_dir) {
  InitGpgme();
  if (gpgme_engine_check_version(GPGME_PROTOCOL_OpenPGP) != GPG_ERR_NO_ERROR) {
    return absl::FailedPreconditionError("GnuPG (gpg) is not installed; signedBy requirements cannot be verified");
  }
  std::unique_ptr<GpgKeyring> ring(new GpgKeyring());
  std::string tmpl =
      StrCat(parent_dir.empty() ? std::filesystem::temp_directory_path().string() : parent_dir, "/cdh-gnupg-XXXXXX");
  if (mkdtemp(tmpl.data()) == nullptr) {
    return absl::UnavailableError("cannot create a temporary GNUPGHOME");
  }
  ring->home_ = tmpl;  // removed by the destructor from here on
  // gpg 2.2 starts a gpg-agent daemon for an import unless told not to; verification with public
  // keys never needs one, and a daemon would outlive the directory.
  if (absl::Status s = WriteFileAtomic(ring->home_ + "/gpg.conf", "no-autostart\n", 0600); !s.ok()) return s;
  gpgme_ctx_t ctx = nullptr;
  if (gpgme_new(&ctx) != GPG_ERR_NO_ERROR) return absl::InternalError("gpgme_new failed");
  ring->ctx_ = ctx;
  if (gpgme_set_protocol(ctx, GPGME_PROTOCOL_OpenPGP) != GPG_ERR_NO_ERROR ||
      gpgme_ctx_set_engine_info(ctx, GPGME_PROTOCOL_OpenPGP, nullptr, ring->home_.c_str()) != GPG_ERR_NO_ERROR) {
    return absl::InternalError("cannot point GPGME at the temporary GNUPGHOME");
  }
  gpgme_set_offline(ctx, 1);
  for (const std::string& key : keys) {
    auto data = DataFrom(key);
    if (!data.ok()) return data.status();
    gpgme_error_t err = gpgme_op_import(ctx, data->get());
    if (err != GPG_ERR_NO_ERROR) continue;  // judged below: no fingerprint imported
    gpgme_import_result_t result = gpgme_op_import_result(ctx);
    for (gpgme_import_status_t s = result ? result->imports : nullptr; s != nullptr; s = s->next) {
      if (s->result == GPG_ERR_NO_ERROR && s->fpr != nullptr) ring->fingerprints_.insert(s->fpr);
    }
  }
  if (ring->fingerprints_.empty()) {
    return absl::InvalidArgumentError("no OpenPGP public key could be imported from the policy's key data");
  }
  return ring;
}

GpgKeyring::~GpgKeyring() {
  if (ctx_ != nullptr) gpgme_release(Ctx(ctx_));
  if (!home_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(home_, ec);
  }
}

absl::StatusOr<GpgKeyring::Verified> GpgKeyring::Verify(std::string_view signed_message) {
  auto sig = DataFrom(signed_message);
  if (!sig.ok()) return sig.status();
  gpgme_data_t plain_raw = nullptr;
  if (gpgme_data_new(&plain_raw) != GPG_ERR_NO_ERROR) return absl::InternalError("gpgme_data_new failed");
  DataPtr plain(plain_raw);
  gpgme_error_t err = gpgme_op_verify(Ctx(ctx_), sig->get(), nullptr, plain.get());
  if (err != GPG_ERR_NO_ERROR) {
    return absl::PermissionDeniedError(StrCat("not a valid OpenPGP signed message (", ErrorText(err), ")"));
  }
  gpgme_verify_result_t result = gpgme_op_verify_result(Ctx(ctx_));
  int count = 0;
  for (gpgme_signature_t s = result ? result->signatures : nullptr; s != nullptr; s = s->next) ++count;
  if (count != 1) return absl::PermissionDeniedError(StrCat("expected one OpenPGP signature, found ", count));
  gpgme_signature_t s = result->signatures;
  if (gpgme_err_code(s->status) != GPG_ERR_NO_ERROR) {
    return absl::PermissionDeniedError(StrCat("OpenPGP signature is not good (", gpgme_strerror(s->status), ")"));
  }
  constexpr unsigned kBad = GPGME_SIGSUM_RED | GPGME_SIGSUM_KEY_REVOKED | GPGME_SIGSUM_KEY_EXPIRED |
                            GPGME_SIGSUM_SIG_EXPIRED | GPGME_SIGSUM_KEY_MISSING | GPGME_SIGSUM_BAD_POLICY |
                            GPGME_SIGSUM_SYS_ERROR;
  if ((s->summary & kBad) != 0 || s->wrong_key_usage) {
    return absl::PermissionDeniedError("OpenPGP signature made by a revoked, expired or unusable key");
  }
  if (s->fpr == nullptr) return absl::PermissionDeniedError("OpenPGP signature without a key fingerprint");
  // Map a subkey to its primary key.
  std::string primary = s->fpr;
  gpgme_key_t key = nullptr;
  if (gpgme_get_key(Ctx(ctx_), s->fpr, &key, 0) == GPG_ERR_NO_ERROR && key != nullptr) {
    if (key->fpr != nullptr) primary = key->fpr;
    gpgme_key_unref(key);
  }
  if (!fingerprints_.contains(primary)) {
    return absl::PermissionDeniedError("OpenPGP signature made by a key the policy does not trust");
  }
  size_t len = 0;
  char* bytes = gpgme_data_release_and_get_mem(plain.release(), &len);
  Verified out{std::string(bytes != nullptr ? bytes : "", len), primary};
  gpgme_free(bytes);
  return out;
}

}  // namespace cdh::image
