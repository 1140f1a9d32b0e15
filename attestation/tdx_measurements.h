// TDX measurement registers through the tdx_guest sysfs of Linux ≥ 6.16 (attesters.md §2.2, §3.3):
// `<dir>/mrconfigid` (48 bytes, read-only) and `<dir>/rtmr<N>:sha384` (reading gives 48 bytes;
// writing 48 bytes *extends*: new = SHA-384(old ‖ data)). A plain file cannot reproduce the
// extend, so tests use FakeTdxMeasurements (fake_tdx_measurements.h). The TDREPORT ioctl path of
// older kernels is not implemented (runtime measurement and init-data checks then report
// UNAVAILABLE naming the sysfs directory).
//
// Implementations are thread-safe. Codes: INVALID_ARGUMENT (RTMR index outside 0..3, digest not
// 48 bytes), UNAVAILABLE (I/O errors; the message names the file).
#ifndef CDH_ATTESTATION_TDX_MEASUREMENTS_H_
#define CDH_ATTESTATION_TDX_MEASUREMENTS_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace cdh::attestation {

inline constexpr size_t kTdxMrSize = 48;
inline constexpr int kTdxRtmrCount = 4;

class TdxMeasurements {
 public:
  virtual ~TdxMeasurements() = default;
  virtual absl::StatusOr<std::string> ReadMrConfigId() = 0;
  virtual absl::StatusOr<std::string> ReadRtmr(int index) = 0;
  virtual absl::Status ExtendRtmr(int index, std::string_view digest) = 0;
};

// Over the sysfs directory. Neither copyable nor movable.
class SysfsTdxMeasurements : public TdxMeasurements {
 public:
  explicit SysfsTdxMeasurements(std::string dir) : dir_(std::move(dir)) {}
  SysfsTdxMeasurements(const SysfsTdxMeasurements&) = delete;
  SysfsTdxMeasurements& operator=(const SysfsTdxMeasurements&) = delete;

  absl::StatusOr<std::string> ReadMrConfigId() override;
  absl::StatusOr<std::string> ReadRtmr(int index) override;
  absl::Status ExtendRtmr(int index, std::string_view digest) override;

 private:
  std::string dir_;
};

// Argument checks shared by implementations.
absl::Status CheckRtmrArgs(int index, std::string_view digest);

}  // namespace cdh::attestation

#endif  // CDH_ATTESTATION_TDX_MEASUREMENTS_H_
