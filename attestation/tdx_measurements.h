// TDX measurement registers through the tdx_guest sysfs of Linux ≥ 6.16 (attesters.md §2.2, §3.3):
// `<dir>/mrconfigid` (48 bytes, read-only) and `<dir>/rtmr<N>:sha384` (reading gives 48 bytes;
// writing 48 bytes *extends*: new = SHA-384(old ‖ data)). A plain file cannot reproduce the
// extend, so tests use FakeTdxMeasurements (fake_tdx_measurements.h). On kernels without that
// sysfs, TdxGuestDeviceMeasurements reads MRCONFIGID and RTMRs from a TDREPORT obtained with the
// /dev/tdx_guest TDX_CMD_GET_REPORT0 ioctl (as upstream); it cannot extend (UNIMPLEMENTED).
//
// Implementations are thread-safe. Codes: INVALID_ARGUMENT (RTMR index outside 0..3, digest not
// 48 bytes), UNAVAILABLE (I/O errors; the message names the file).
#ifndef CDH_ATTESTATION_TDX_MEASUREMENTS_H_
#define CDH_ATTESTATION_TDX_MEASUREMENTS_H_

#include <cstdint>
#include <functional>
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
  // False when this access path can only read (the TDREPORT ioctl).
  virtual bool CanExtend() const { return true; }
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

// TDREPORT (1024 bytes) offsets: TDINFO at 512; MRCONFIGID at 576; RTMR0..3 at 720 + 48·i.
inline constexpr size_t kTdReportMrConfigIdOffset = 576;
inline constexpr size_t kTdReportRtmrOffset = 720;

// struct tdx_report_req of include/uapi/linux/tdx-guest.h.
struct TdxReportReqRaw {
  uint8_t reportdata[64];
  uint8_t tdreport[1024];
};
static_assert(sizeof(TdxReportReqRaw) == 1088);
// TDX_CMD_GET_REPORT0 = _IOWR('T', 1, struct tdx_report_req).
unsigned long TdxCmdGetReport0();

// Reads through /dev/tdx_guest. Thread-safe; neither copyable nor movable. Runs only on a TDX
// guest: tests inject a fake kernel through `ioctl_fn`.
class TdxGuestDeviceMeasurements : public TdxMeasurements {
 public:
  using IoctlFn = std::function<int(int fd, unsigned long request, void* arg)>;
  explicit TdxGuestDeviceMeasurements(std::string device, IoctlFn ioctl_fn = nullptr);
  TdxGuestDeviceMeasurements(const TdxGuestDeviceMeasurements&) = delete;
  TdxGuestDeviceMeasurements& operator=(const TdxGuestDeviceMeasurements&) = delete;

  absl::StatusOr<std::string> ReadMrConfigId() override;
  absl::StatusOr<std::string> ReadRtmr(int index) override;
  // UNIMPLEMENTED: extending needs the measurements sysfs.
  absl::Status ExtendRtmr(int index, std::string_view digest) override;
  bool CanExtend() const override { return false; }

 private:
  absl::StatusOr<std::string> TdReport();
  std::string device_;
  IoctlFn ioctl_;
};

// Argument checks shared by implementations.
absl::Status CheckRtmrArgs(int index, std::string_view digest);

}  // namespace cdh::attestation

#endif  // CDH_ATTESTATION_TDX_MEASUREMENTS_H_
