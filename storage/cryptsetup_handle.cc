#include "storage/cryptsetup_handle.h"

#include <cstring>

#include "common/strings.h"

namespace cdh::storage {

absl::Status CryptLog::Error(absl::StatusCode code, std::string_view what, std::string_view step, int r) const {
  return absl::Status(code,
                      StrCat(what, " ", step, " failed (", std::strerror(-r), ")", last_.empty() ? "" : ": ", last_));
}

void CryptLog::Callback(int level, const char* msg, void* usrptr) {
  if (level != CRYPT_LOG_ERROR || usrptr == nullptr || msg == nullptr) return;
  auto* log = static_cast<CryptLog*>(usrptr);
  log->last_ = msg;
  while (!log->last_.empty() && log->last_.back() == '\n') log->last_.pop_back();
}

}  // namespace cdh::storage
