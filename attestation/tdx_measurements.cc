#include "attestation/tdx_measurements.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstring>

#include "common/byte_reader.h"
#include "common/file_util.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace cdh::attestation {
namespace {

// A measurement attribute of exactly `n` bytes. sysfs announces 4096 bytes for every attribute
// whatever it holds, so the size is taken from what a read returns (ReadPseudoFile).
absl::StatusOr<std::string> ReadExact(const std::string& path, size_t n) {
  absl::StatusOr<std::string> out = ReadPseudoFile(path, n);
  if (!out.ok()) return absl::UnavailableError(out.status().message());
  if (out->size() != n) {
    return absl::UnavailableError(StrCat(path, " gave ", out->size(), " bytes, expected ", n));
  }
  return out;
}

}  // namespace

absl::Status CheckRtmrArgs(int index, std::string_view digest) {
  if (index < 0 || index >= kTdxRtmrCount) {
    return absl::InvalidArgumentError(StrCat("RTMR index ", index, " is outside 0..", kTdxRtmrCount - 1));
  }
  if (digest.size() != kTdxMrSize) {
    return absl::InvalidArgumentError(StrCat("an RTMR extend takes a 48-byte SHA-384 digest, got ", digest.size()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> SysfsTdxMeasurements::ReadMrConfigId() {
  return ReadExact(dir_ + "/mrconfigid", kTdxMrSize);
}

absl::StatusOr<std::string> SysfsTdxMeasurements::ReadRtmr(int index) {
  if (index < 0 || index >= kTdxRtmrCount)
    return absl::InvalidArgumentError(StrCat("RTMR index ", index, " is outside 0..3"));
  return ReadExact(StrCat(dir_, "/rtmr", index, ":sha384"), kTdxMrSize);
}

absl::Status SysfsTdxMeasurements::ExtendRtmr(int index, std::string_view digest) {
  absl::Status args = CheckRtmrArgs(index, digest);
  if (!args.ok()) return args;
  std::string path = StrCat(dir_, "/rtmr", index, ":sha384");
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return absl::UnavailableError(StrCat("open ", path, ": ", ::strerror(errno)));
  ssize_t n = ::write(fd, digest.data(), digest.size());
  int err = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(digest.size())) {
    return absl::UnavailableError(StrCat("write ", path, ": ", n < 0 ? ::strerror(err) : "short write"));
  }
  return absl::OkStatus();
}

unsigned long TdxCmdGetReport0() { return _IOWR('T', 1, TdxReportReqRaw); }

TdxGuestDeviceMeasurements::TdxGuestDeviceMeasurements(std::string device, IoctlFn ioctl_fn)
    : device_(std::move(device)) {
  ioctl_ = ioctl_fn ? std::move(ioctl_fn) : IoctlFn([](int fd, unsigned long r, void* a) { return ::ioctl(fd, r, a); });
}

absl::StatusOr<std::string> TdxGuestDeviceMeasurements::TdReport() {
  int fd = ::open(device_.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return absl::UnavailableError(StrCat("open ", device_, ": ", ::strerror(errno)));
  TdxReportReqRaw req;
  std::memset(&req, 0, sizeof req);
  int rc = ioctl_(fd, TdxCmdGetReport0(), &req);
  int err = errno;
  ::close(fd);
  if (rc != 0) return absl::UnavailableError(StrCat("TDX_CMD_GET_REPORT0 on ", device_, ": ", ::strerror(err)));
  return std::string(reinterpret_cast<const char*>(req.tdreport), sizeof req.tdreport);
}

absl::StatusOr<std::string> TdxGuestDeviceMeasurements::ReadMrConfigId() {
  absl::StatusOr<std::string> r = TdReport();
  if (!r.ok()) return r.status();
  CDH_ASSIGN_OR_RETURN(ByteReader field, ByteReader(*r, "TDREPORT").Slice(kTdReportMrConfigIdOffset, kTdxMrSize));
  return std::string(field.Rest());
}

absl::StatusOr<std::string> TdxGuestDeviceMeasurements::ReadRtmr(int index) {
  if (index < 0 || index >= kTdxRtmrCount)
    return absl::InvalidArgumentError(StrCat("RTMR index ", index, " is outside 0..3"));
  absl::StatusOr<std::string> r = TdReport();
  if (!r.ok()) return r.status();
  CDH_ASSIGN_OR_RETURN(
      ByteReader field,
      ByteReader(*r, "TDREPORT").Slice(kTdReportRtmrOffset + kTdxMrSize * static_cast<size_t>(index), kTdxMrSize));
  return std::string(field.Rest());
}

absl::Status TdxGuestDeviceMeasurements::ExtendRtmr(int index, std::string_view digest) {
  return absl::UnimplementedError(
      StrCat("extending RTMRs needs the tdx_guest measurements sysfs (Linux 6.16+); ", device_, " can only read them"));
}

}  // namespace cdh::attestation
