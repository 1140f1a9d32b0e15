// SwtpmFixture: the GoogleTest fixture every test on a real TPM starts from — a fresh swtpm
// (SwtpmRig: unix sockets in a temp directory, killed at the end) with an RSA attestation key
// provisioned through ESAPI at `ak_handle` (the `tpm` attester's default, or the Azure vTPM's),
// and this test's ESAPI connection to it in `tpm_`. Test-only, header-only (the tests link
// GoogleTest; the rig library does not).
//
// swtpm serves one connection at a time: a test that lets another process (the daemon) open the
// TPM calls CloseTpm first, and opens a new EsysTpm after that process has stopped.
//
// Not thread-safe; neither copyable nor movable (a GoogleTest fixture).
#ifndef CDH_ATTESTATION_TPM_SWTPM_FIXTURE_H_
#define CDH_ATTESTATION_TPM_SWTPM_FIXTURE_H_

#include <cstdint>
#include <memory>

#include "attestation/tpm/esys_tpm.h"
#include "attestation/tpm/swtpm_rig.h"
#include "attestation/tpm_attester.h"
#include "common/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace cdh::attestation {

class SwtpmFixture : public ::testing::Test {
 protected:
  explicit SwtpmFixture(uint32_t ak_handle = kDefaultTpmAkHandle) : ak_handle_(ak_handle) {}

  // Subclasses that extend SetUp call this first and stop on HasFatalFailure().
  void SetUp() override {
    auto rig = SwtpmRig::Start();
    ASSERT_THAT(rig, ::cdh::testing::IsOk());
    rig_ = std::move(rig).value();
    auto tpm = EsysTpm::Open(rig_->tcti());
    ASSERT_THAT(tpm, ::cdh::testing::IsOk());
    tpm_ = std::move(tpm).value();
    ASSERT_THAT(tpm_->ProvisionRsaAk(ak_handle_), ::cdh::testing::IsOk());
  }
  void TearDown() override {
    tpm_.reset();
    rig_.reset();
  }

  // Closes this test's connection so that another process can open the TPM.
  void CloseTpm() { tpm_.reset(); }

  const uint32_t ak_handle_;
  std::unique_ptr<SwtpmRig> rig_;
  std::shared_ptr<EsysTpm> tpm_;
};

}  // namespace cdh::attestation

#endif  // CDH_ATTESTATION_TPM_SWTPM_FIXTURE_H_
