// The /dev/sev-guest SNP_GET_EXT_REPORT ioctl (attesters.md §2.3; Linux include/uapi/linux/
// sev-guest.h; SEV crate src/firmware/linux/guest/types.rs): the fallback report source of the
// `snp` attester when configfs-tsm is absent. It cannot run on this build machine (no SNP guest);
// the request/response packing and the "certificate buffer too small" retry are unit-tested
// against a fake kernel through the injectable ioctl function.
//
// SevGuestDevice is an interface; LinuxSevGuestDevice is thread-safe (one open() per call) and
// neither copyable nor movable.
#ifndef CDH_ATTESTATION_SEV_GUEST_DEVICE_H_
#define CDH_ATTESTATION_SEV_GUEST_DEVICE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace cdh::attestation {

struct SnpExtReport {
  std::string report;                // 1184-byte ATTESTATION_REPORT
  std::optional<std::string> certs;  // GHCB certificate table, when the host provides one
};

class SevGuestDevice {
 public:
  virtual ~SevGuestDevice() = default;
  // `report_data` exactly 64 bytes; `vmpl` 0..3. UNAVAILABLE when the device is missing or the
  // firmware/VMM fails (message names the device and the error codes); RESOURCE_EXHAUSTED when the
  // host announces a certificate table larger than kMaxCertsSize.
  virtual absl::StatusOr<SnpExtReport> GetExtReport(std::string_view report_data, uint32_t vmpl) = 0;
};

// uapi structures, packed exactly as the kernel expects (x86-64).
struct SnpReportReqRaw {  // struct snp_report_req
  uint8_t user_data[64];
  uint32_t vmpl;
  uint8_t rsvd[28];
};
struct SnpExtReportReqRaw {  // struct snp_ext_report_req
  SnpReportReqRaw data;
  uint64_t certs_address;
  uint32_t certs_len;
};
struct SnpReportRespRaw {  // struct snp_report_resp
  uint8_t data[4000];
};
struct SnpGuestRequestIoctlRaw {  // struct snp_guest_request_ioctl
  uint8_t msg_version;
  uint64_t req_data;
  uint64_t resp_data;
  uint64_t exitinfo2;  // fw_error (low 32 bits) | vmm_error (high 32 bits)
};
static_assert(sizeof(SnpReportReqRaw) == 96);
static_assert(sizeof(SnpExtReportReqRaw) == 112);
static_assert(sizeof(SnpGuestRequestIoctlRaw) == 32);

// SNP_GET_EXT_REPORT = _IOWR('S', 0x2, struct snp_guest_request_ioctl).
unsigned long SnpGetExtReportIoctl();
// vmm_error meaning "certificate buffer too small; certs_len now holds the size needed".
inline constexpr uint32_t kSnpVmmErrInvalidLen = 1;
// The kernel refuses certificate buffers above SEV_FW_BLOB_MAX_SIZE (16 KiB, page multiple).
inline constexpr uint32_t kMaxCertsSize = 0x4000;

// Fills a request for `report_data` (64 bytes) at `vmpl`.
SnpReportReqRaw PackSnpReportReq(std::string_view report_data, uint32_t vmpl);
// Extracts the report from a response: {status u32, report_size u32, rsvd[24], report[...]}.
// UNAVAILABLE for a non-zero status; INVALID_ARGUMENT for a report_size other than 1184.
absl::StatusOr<std::string> ParseSnpReportResp(const SnpReportRespRaw& resp);

class LinuxSevGuestDevice : public SevGuestDevice {
 public:
  // (request, argument) → ioctl(2) result; errno is read when it returns -1.
  using IoctlFn = std::function<int(int fd, unsigned long request, void* arg)>;

  // `path` is /dev/sev-guest in production; `ioctl_fn` defaults to ::ioctl.
  explicit LinuxSevGuestDevice(std::string path, IoctlFn ioctl_fn = nullptr);
  LinuxSevGuestDevice(const LinuxSevGuestDevice&) = delete;
  LinuxSevGuestDevice& operator=(const LinuxSevGuestDevice&) = delete;

  absl::StatusOr<SnpExtReport> GetExtReport(std::string_view report_data, uint32_t vmpl) override;

 private:
  std::string path_;
  IoctlFn ioctl_;
};

}  // namespace cdh::attestation

#endif  // CDH_ATTESTATION_SEV_GUEST_DEVICE_H_
