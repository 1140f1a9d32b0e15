// TeePlatform: where the TEE interfaces live on this guest (every path configurable, so tests
// point them at emulations) and how to reach them (injectable configfs-tsm and TPM openers).
// DetectionProbes() lists the probes of attesters.md §1.2 in upstream's order;
// RegisterHardwareAttesters() registers the tdx, snp, tpm, az-tdx-vtpm and az-snp-vtpm factories.
// Used with ChooseAttester (attester_factory.h), which keeps the no-silent-sample-fallback policy.
//
// TeePaths is a copyable value type. TeePlatform is copyable; its collaborators are thread-safe.
#ifndef CDH_ATTESTATION_TEE_PLATFORM_H_
#define CDH_ATTESTATION_TEE_PLATFORM_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "attestation/attester_factory.h"
#include "attestation/tdx_measurements.h"
#include "attestation/tpm/tpm.h"
#include "attestation/tsm_report.h"

namespace cdh::attestation {

struct TeePaths {
  std::string tsm_report_root = kDefaultTsmReportRoot;
  std::string tdx_guest_device = "/dev/tdx_guest";
  std::string tdx_measurements_dir = "/sys/devices/virtual/misc/tdx_guest/measurements";
  std::string ccel_path = "/sys/firmware/acpi/tables/data/CCEL";
  std::string sev_guest_platform = "/sys/devices/platform/sev-guest";
  std::string sev_guest_device = "/dev/sev-guest";
  std::string csv_guest_device = "/dev/csv-guest";
  // TPM character devices probed in order for `tpm` and the Azure vTPM (upstream: /dev/tpm0..2).
  std::vector<std::string> tpm_devices = {"/dev/tpmrm0", "/dev/tpm0", "/dev/tpm1", "/dev/tpm2"};
  // tpm2-tss TCTI; "" = "device:<first existing tpm_devices entry>".
  std::string tpm_tcti;
  uint32_t tpm_ak_handle = 0x81010002;
  // Azure instance metadata service base URL (TD quotes, VCEK).
  std::string imds_url = "http://169.254.169.254";
  // How long the Azure paravisor needs to regenerate the HCL report after a report-data write.
  absl::Duration azure_hcl_refresh_delay = absl::Seconds(3);
  // Runtime-measurement event log (attesters.md §6; upstream AAEL_PATH).
  std::string runtime_log_path = "/run/attestation-agent/eventlog";
};

struct TeePlatform {
  TeePaths paths;
  // configfs-tsm access; null = PosixTsmFs(paths.tsm_report_root).
  std::shared_ptr<TsmFs> tsm;
  // TDX MRCONFIGID/RTMRs; null = SysfsTdxMeasurements(paths.tdx_measurements_dir) when it exists.
  std::shared_ptr<TdxMeasurements> tdx_measurements;
  // Opens a TPM for a TCTI string; null = EsysTpm::Open.
  std::function<absl::StatusOr<std::shared_ptr<Tpm>>(const std::string& tcti)> open_tpm;

  std::shared_ptr<TsmFs> Tsm() const;
  // The TCTI to use: paths.tpm_tcti, else "device:<first existing device>"; NOT_FOUND naming the
  // devices probed when none exists.
  absl::StatusOr<std::string> TpmTcti() const;
  // The TPM at TpmTcti(): open_tpm's when set, else an EsysTpm inside a ReconnectingTpm, which
  // reopens the connection after it failed (tpm/reconnecting_tpm.h).
  absl::StatusOr<std::shared_ptr<Tpm>> OpenTpm() const;
};

// Upstream's order (attesters.md §1.2): tdx (configfs-tsm provider tdx_guest, or the tdx_guest
// device), az-tdx-vtpm and az-snp-vtpm (HCL report in TPM NV 0x01400001 of type TDX / SNP; only
// tried when a TPM is reachable), snp (sev-guest platform device), csv, tpm (a TPM device, or an
// explicitly configured TCTI).
std::vector<TeeProbe> DetectionProbes(const TeePlatform& platform);

// Registers "tdx", "snp", "tpm", "az-tdx-vtpm", "az-snp-vtpm". Factories open their devices when
// called (UNAVAILABLE / NOT_FOUND naming the path or TCTI when they cannot).
void RegisterHardwareAttesters(AttesterRegistry& registry, const TeePlatform& platform);

}  // namespace cdh::attestation

#endif  // CDH_ATTESTATION_TEE_PLATFORM_H_
