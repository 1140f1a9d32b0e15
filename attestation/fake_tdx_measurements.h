// FakeTdxMeasurements: in-memory TDX MRCONFIGID and RTMRs with the kernel's extend semantics
// (new = SHA-384(old ‖ digest)); stands in for a TDX guest, which cannot run here. Can be made to
// fail the next N extends (crash/failure injection). Thread-safe; neither copyable nor movable.
#ifndef CDH_ATTESTATION_FAKE_TDX_MEASUREMENTS_H_
#define CDH_ATTESTATION_FAKE_TDX_MEASUREMENTS_H_

#include <array>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "attestation/tdx_measurements.h"
#include "crypto/hash.h"

namespace cdh::attestation {

class FakeTdxMeasurements : public TdxMeasurements {
 public:
  explicit FakeTdxMeasurements(std::string mr_config_id = std::string(kTdxMrSize, '\0'))
      : mr_config_id_(std::move(mr_config_id)) {
    rtmr_.fill(std::string(kTdxMrSize, '\0'));
  }
  FakeTdxMeasurements(const FakeTdxMeasurements&) = delete;
  FakeTdxMeasurements& operator=(const FakeTdxMeasurements&) = delete;

  absl::StatusOr<std::string> ReadMrConfigId() override { return mr_config_id_; }
  absl::StatusOr<std::string> ReadRtmr(int index) override {
    if (index < 0 || index >= kTdxRtmrCount) return absl::InvalidArgumentError("RTMR index outside 0..3");
    absl::MutexLock l(&mu_);
    return rtmr_[index];
  }
  absl::Status ExtendRtmr(int index, std::string_view digest) override {
    absl::Status args = CheckRtmrArgs(index, digest);
    if (!args.ok()) return args;
    absl::MutexLock l(&mu_);
    rtmr_[index] = crypto::Hash(crypto::HashAlgorithm::kSha384, rtmr_[index] + std::string(digest));
    return absl::OkStatus();
  }

 private:
  const std::string mr_config_id_;
  absl::Mutex mu_;
  std::array<std::string, kTdxRtmrCount> rtmr_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cdh::attestation

#endif  // CDH_ATTESTATION_FAKE_TDX_MEASUREMENTS_H_
