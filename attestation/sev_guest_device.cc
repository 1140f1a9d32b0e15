#include "attestation/sev_guest_device.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "attestation/snp_report.h"
#include "common/byte_reader.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace cdh::attestation {

unsigned long SnpGetExtReportIoctl() { return _IOWR('S', 0x2, SnpGuestRequestIoctlRaw); }

SnpReportReqRaw PackSnpReportReq(std::string_view report_data, uint32_t vmpl) {
  SnpReportReqRaw req;
  std::memset(&req, 0, sizeof req);
  std::memcpy(req.user_data, report_data.data(), std::min(report_data.size(), sizeof req.user_data));
  req.vmpl = vmpl;
  return req;
}

absl::StatusOr<std::string> ParseSnpReportResp(const SnpReportRespRaw& resp) {
  // MSG_REPORT_RSP: status u32 | report_size u32 | reserved[24] | report (SEV-SNP ABI, table 25).
  ByteReader r(std::span<const uint8_t>(resp.data), "SNP report response");
  CDH_ASSIGN_OR_RETURN(uint32_t status, r.U32Le());
  CDH_ASSIGN_OR_RETURN(uint32_t size, r.U32Le());
  if (status != 0) return absl::UnavailableError(StrCat("SNP firmware returned status ", status));
  if (size != kSnpReportSize) {
    return absl::InvalidArgumentError(
        StrCat("SNP report response announces ", size, " bytes, expected ", kSnpReportSize));
  }
  CDH_RETURN_IF_ERROR(r.Skip(24));
  CDH_ASSIGN_OR_RETURN(std::string_view report, r.Bytes(kSnpReportSize));
  return std::string(report);
}

LinuxSevGuestDevice::LinuxSevGuestDevice(std::string path, IoctlFn ioctl_fn) : path_(std::move(path)) {
  ioctl_ = ioctl_fn ? std::move(ioctl_fn)
                    : IoctlFn([](int fd, unsigned long req, void* arg) { return ::ioctl(fd, req, arg); });
}

absl::StatusOr<SnpExtReport> LinuxSevGuestDevice::GetExtReport(std::string_view report_data, uint32_t vmpl) {
  if (report_data.size() != 64 || vmpl > 3) {
    return absl::InvalidArgumentError("SNP_GET_EXT_REPORT needs 64 bytes of report data and VMPL 0..3");
  }
  int fd = ::open(path_.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return absl::UnavailableError(StrCat("open ", path_, ": ", ::strerror(errno)));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};

  std::vector<uint8_t> certs;  // page-aligned sizes only; empty on the first call
  for (int attempt = 0; attempt < 2; ++attempt) {
    SnpExtReportReqRaw req;
    std::memset(&req, 0, sizeof req);
    req.data = PackSnpReportReq(report_data, vmpl);
    req.certs_address = reinterpret_cast<uint64_t>(certs.empty() ? nullptr : certs.data());
    req.certs_len = static_cast<uint32_t>(certs.size());
    SnpReportRespRaw resp;
    std::memset(&resp, 0, sizeof resp);
    SnpGuestRequestIoctlRaw io;
    std::memset(&io, 0, sizeof io);
    io.msg_version = 1;
    io.req_data = reinterpret_cast<uint64_t>(&req);
    io.resp_data = reinterpret_cast<uint64_t>(&resp);
    int rc = ioctl_(fd, SnpGetExtReportIoctl(), &io);
    int err = errno;
    uint32_t fw_error = static_cast<uint32_t>(io.exitinfo2 & 0xffffffffu);
    uint32_t vmm_error = static_cast<uint32_t>(io.exitinfo2 >> 32);
    if (rc != 0 && vmm_error == kSnpVmmErrInvalidLen && attempt == 0) {
      if (req.certs_len == 0 || req.certs_len > kMaxCertsSize) {
        return absl::ResourceExhaustedError(StrCat(path_, ": the host announces a certificate table of ", req.certs_len,
                                                   " bytes; the limit is ", kMaxCertsSize));
      }
      certs.assign(req.certs_len, 0);
      continue;
    }
    if (rc != 0) {
      return absl::UnavailableError(StrCat("SNP_GET_EXT_REPORT on ", path_, " failed: ", ::strerror(err), " (fw_error ",
                                           fw_error, ", vmm_error ", vmm_error, ")"));
    }
    absl::StatusOr<std::string> report = ParseSnpReportResp(resp);
    if (!report.ok()) return report.status();
    SnpExtReport out;
    out.report = std::move(report).value();
    if (!certs.empty() && std::any_of(certs.begin(), certs.end(), [](uint8_t b) { return b != 0; })) {
      out.certs = std::string(certs.begin(), certs.end());
    }
    return out;
  }
  return absl::UnavailableError(StrCat("SNP_GET_EXT_REPORT on ", path_, ": the host kept asking for a larger buffer"));
}

}  // namespace cdh::attestation
