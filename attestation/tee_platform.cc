#include "attestation/tee_platform.h"

#include <sys/stat.h>

#include "attestation/az_vtpm_attester.h"
#include "attestation/hcl_report.h"
#include "attestation/imds_client.h"
#include "attestation/sev_guest_device.h"
#include "attestation/snp_attester.h"
#include "attestation/tdx_attester.h"
#include "attestation/tpm/esys_tpm.h"
#include "attestation/tpm/reconnecting_tpm.h"
#include "attestation/tpm_attester.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace cdh::attestation {
namespace {

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

absl::StatusOr<bool> HclReportOfType(const TeePlatform& platform, HclReportType type) {
  if (!platform.TpmTcti().ok()) return false;  // no TPM: not an Azure CVM
  CDH_ASSIGN_OR_RETURN(std::shared_ptr<Tpm> tpm, platform.OpenTpm());
  absl::StatusOr<std::string> hcl = tpm->NvRead(kHclReportNvIndex);
  if (hcl.status().code() == absl::StatusCode::kNotFound) return false;
  if (!hcl.ok()) return hcl.status();
  absl::StatusOr<HclReport> parsed = ParseHclReport(*hcl);
  return parsed.ok() && parsed->type == type;
}

}  // namespace

std::shared_ptr<TsmFs> TeePlatform::Tsm() const {
  if (tsm) return tsm;
  return std::make_shared<PosixTsmFs>(paths.tsm_report_root);
}

absl::StatusOr<std::string> TeePlatform::TpmTcti() const {
  if (!paths.tpm_tcti.empty()) return paths.tpm_tcti;
  for (const std::string& dev : paths.tpm_devices) {
    if (Exists(dev)) return StrCat("device:", dev);
  }
  std::vector<std::string> devs(paths.tpm_devices.begin(), paths.tpm_devices.end());
  return absl::NotFoundError(StrCat("no TPM device (probed ", StrJoin(devs, ", "), ")"));
}

absl::StatusOr<std::shared_ptr<Tpm>> TeePlatform::OpenTpm() const {
  CDH_ASSIGN_OR_RETURN(std::string tcti, TpmTcti());
  if (open_tpm) return open_tpm(tcti);
  // A lost connection (TPM service restart, TCTI reset) is reopened by the next call.
  CDH_ASSIGN_OR_RETURN(std::unique_ptr<ReconnectingTpm> tpm,
                       // A TPM restarted under us may be waiting for its Startup: OpenStartedEsysTpm.
                       ReconnectingTpm::Open([tcti]() { return OpenStartedEsysTpm(tcti); }));
  return std::shared_ptr<Tpm>(std::move(tpm));
}

std::vector<TeeProbe> DetectionProbes(const TeePlatform& platform) {
  const TeePaths& p = platform.paths;
  std::vector<TeeProbe> probes;
  probes.push_back({"tdx", StrCat("configfs-tsm provider tdx_guest under ", p.tsm_report_root),
                    [platform]() -> absl::StatusOr<bool> {
                      TsmReporter reporter(platform.Tsm());
                      absl::StatusOr<std::string> provider =
                          reporter.ProbeProvider(CallContext::WithTimeout(absl::Seconds(10)));
                      if (provider.status().code() == absl::StatusCode::kNotFound) return false;
                      if (!provider.ok()) return provider.status();
                      return *provider == "tdx_guest";
                    }});
  probes.push_back({"tdx", p.tdx_guest_device});
  std::string tpm_where = p.tpm_tcti.empty() ? StrCat("TPM NV 0x01400001 via ", StrJoin(p.tpm_devices, ", "))
                                             : StrCat("TPM NV 0x01400001 via ", p.tpm_tcti);
  probes.push_back({"az-tdx-vtpm", tpm_where + " (HCL report type TDX)",
                    [platform]() { return HclReportOfType(platform, HclReportType::kTdx); }});
  probes.push_back({"az-snp-vtpm", tpm_where + " (HCL report type SNP)",
                    [platform]() { return HclReportOfType(platform, HclReportType::kSnp); }});
  probes.push_back({"snp", p.sev_guest_platform});
  probes.push_back({"csv", p.csv_guest_device});
  if (p.tpm_tcti.empty()) {
    probes.push_back({"tpm", StrJoin(p.tpm_devices, " | "),
                      [platform]() -> absl::StatusOr<bool> { return platform.TpmTcti().ok(); }});
  } else {
    probes.push_back({"tpm", StrCat("TPM at ", p.tpm_tcti), [platform]() -> absl::StatusOr<bool> {
                        absl::StatusOr<std::shared_ptr<Tpm>> tpm = platform.OpenTpm();
                        if (!tpm.ok()) return tpm.status();
                        return true;
                      }});
  }
  return probes;
}

void RegisterHardwareAttesters(AttesterRegistry& registry, const TeePlatform& platform) {
  registry.Register("tdx", [platform]() -> absl::StatusOr<std::unique_ptr<Attester>> {
    std::shared_ptr<TdxMeasurements> measurements = platform.tdx_measurements;
    if (!measurements && Exists(platform.paths.tdx_measurements_dir)) {
      measurements = std::make_shared<SysfsTdxMeasurements>(platform.paths.tdx_measurements_dir);
    } else if (!measurements && Exists(platform.paths.tdx_guest_device)) {
      // Older kernels: read-only access through the TDREPORT ioctl (init-data check works,
      // runtime measurement does not).
      measurements = std::make_shared<TdxGuestDeviceMeasurements>(platform.paths.tdx_guest_device);
    }
    return std::make_unique<TdxAttester>(
        platform.Tsm(), TdxOptions{platform.paths.ccel_path, platform.paths.runtime_log_path}, std::move(measurements));
  });
  registry.Register("snp", [platform]() -> absl::StatusOr<std::unique_ptr<Attester>> {
    std::shared_ptr<TsmFs> tsm;
    if (platform.tsm || Exists(platform.paths.tsm_report_root)) tsm = platform.Tsm();
    std::unique_ptr<SevGuestDevice> device;
    if (Exists(platform.paths.sev_guest_device)) {
      device = std::make_unique<LinuxSevGuestDevice>(platform.paths.sev_guest_device);
    }
    if (!tsm && !device) {
      return absl::UnavailableError(
          StrCat("snp: neither ", platform.paths.tsm_report_root, " nor ", platform.paths.sev_guest_device, " exists"));
    }
    return std::make_unique<SnpAttester>(std::move(tsm), std::move(device));
  });
  registry.Register("tpm", [platform]() -> absl::StatusOr<std::unique_ptr<Attester>> {
    CDH_ASSIGN_OR_RETURN(std::shared_ptr<Tpm> tpm, platform.OpenTpm());
    return std::make_unique<TpmAttester>(std::move(tpm), platform.paths.tpm_ak_handle);
  });
  for (HclReportType type : {HclReportType::kTdx, HclReportType::kSnp}) {
    std::string name(type == HclReportType::kTdx ? AzVtpmAttester::kTdxTeeName : AzVtpmAttester::kSnpTeeName);
    registry.Register(name, [platform, type]() -> absl::StatusOr<std::unique_ptr<Attester>> {
      CDH_ASSIGN_OR_RETURN(std::shared_ptr<Tpm> tpm, platform.OpenTpm());
      CDH_ASSIGN_OR_RETURN(std::unique_ptr<HttpImdsClient> imds, HttpImdsClient::New(platform.paths.imds_url));
      return std::make_unique<AzVtpmAttester>(type, std::move(tpm), std::shared_ptr<ImdsClient>(std::move(imds)),
                                              platform.paths.azure_hcl_refresh_delay);
    });
  }
}

}  // namespace cdh::attestation
