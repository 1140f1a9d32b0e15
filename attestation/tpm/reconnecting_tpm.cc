#include "attestation/tpm/reconnecting_tpm.h"

#include "common/strings.h"

namespace cdh::attestation {
namespace {

absl::Status StatusOf(const absl::Status& s) { return s; }
template <typename T>
absl::Status StatusOf(const absl::StatusOr<T>& s) {
  return s.status();
}

}  // namespace

absl::StatusOr<std::unique_ptr<ReconnectingTpm>> ReconnectingTpm::Open(Opener opener) {
  absl::StatusOr<std::shared_ptr<Tpm>> first = opener();
  if (!first.ok()) return first.status();
  return std::unique_ptr<ReconnectingTpm>(new ReconnectingTpm(std::move(opener), std::move(first).value()));
}

ReconnectingTpm::ReconnectingTpm(Opener opener, std::shared_ptr<Tpm> first) : opener_(std::move(opener)) {
  absl::MutexLock lock(&mu_);
  tpm_ = std::move(first);
  opened_ = 1;
}

int ReconnectingTpm::connections_opened() {
  absl::MutexLock lock(&mu_);
  return opened_;
}

absl::StatusOr<std::shared_ptr<Tpm>> ReconnectingTpm::Current() {
  absl::MutexLock lock(&mu_);
  if (tpm_ != nullptr) return tpm_;
  absl::StatusOr<std::shared_ptr<Tpm>> fresh = opener_();
  if (!fresh.ok()) {
    return absl::UnavailableError(
        StrCat("the TPM connection was lost and cannot be reopened: ", ToStd(fresh.status().message())));
  }
  ++opened_;
  tpm_ = std::move(fresh).value();
  return tpm_;
}

void ReconnectingTpm::Drop(const std::shared_ptr<Tpm>& failed) {
  absl::MutexLock lock(&mu_);
  if (tpm_ == failed) tpm_.reset();
}

template <typename T>
T ReconnectingTpm::Run(bool retry_once, const std::function<T(Tpm&)>& call) {
  for (int attempt = 0;; ++attempt) {
    absl::StatusOr<std::shared_ptr<Tpm>> tpm = Current();
    if (!tpm.ok()) return tpm.status();
    T result = call(**tpm);
    if (StatusOf(result).code() != absl::StatusCode::kUnavailable) return result;
    Drop(*tpm);
    if (!retry_once || attempt > 0) return result;
  }
}

absl::StatusOr<TpmQuote> ReconnectingTpm::Quote(uint32_t ak_handle, std::string_view qualifying_data) {
  return Run<absl::StatusOr<TpmQuote>>(true, [&](Tpm& t) { return t.Quote(ak_handle, qualifying_data); });
}
absl::StatusOr<std::vector<std::string>> ReconnectingTpm::ReadPcrs() {
  return Run<absl::StatusOr<std::vector<std::string>>>(true, [](Tpm& t) { return t.ReadPcrs(); });
}
absl::Status ReconnectingTpm::ExtendPcr(int index, std::string_view digest) {
  return Run<absl::Status>(false, [&](Tpm& t) { return t.ExtendPcr(index, digest); });
}
absl::StatusOr<TpmRsaPublic> ReconnectingTpm::ReadRsaPublic(uint32_t handle) {
  return Run<absl::StatusOr<TpmRsaPublic>>(true, [&](Tpm& t) { return t.ReadRsaPublic(handle); });
}
absl::StatusOr<std::string> ReconnectingTpm::NvRead(uint32_t index) {
  return Run<absl::StatusOr<std::string>>(true, [&](Tpm& t) { return t.NvRead(index); });
}
absl::Status ReconnectingTpm::NvWriteDefining(uint32_t index, std::string_view data) {
  return Run<absl::Status>(true, [&](Tpm& t) { return t.NvWriteDefining(index, data); });
}

}  // namespace cdh::attestation
