#include "attestation/tpm/esys_tpm.h"

#include <cstdio>
#include <cstring>

#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include "common/strings.h"

namespace cdh::attestation {
namespace {

// NV reads and writes go in chunks of at most TPM2_PT_NV_BUFFER_MAX (1024 on swtpm, §4.6).
constexpr size_t kNvChunk = 1024;
constexpr size_t kMaxNvSize = 4096;

std::string Hex32(uint32_t v) {
  char b[16];
  std::snprintf(b, sizeof b, "0x%x", v);
  return b;
}

absl::Status TpmError(TSS2_RC rc, std::string_view op) {
  std::string msg = StrCat(op, " failed: ", Tss2_RC_Decode(rc), " (", Hex32(rc), ")");
  if ((rc & TSS2_RC_LAYER_MASK) == TSS2_TPM_RC_LAYER && (rc & TPM2_RC_FMT1) != 0) {
    uint32_t base = rc & (TPM2_RC_FMT1 | 0x3F);
    if (base == TPM2_RC_SIZE || base == TPM2_RC_VALUE) return absl::InvalidArgumentError(msg);
    if (base == TPM2_RC_HANDLE) return absl::NotFoundError(msg);
  }
  return absl::UnavailableError(msg);
}

template <typename T>
struct EsysFreer {
  T* p = nullptr;
  ~EsysFreer() { Esys_Free(p); }
};

TPML_PCR_SELECTION AllSha256Pcrs() {
  TPML_PCR_SELECTION sel;
  std::memset(&sel, 0, sizeof sel);
  sel.count = 1;
  sel.pcrSelections[0].hash = TPM2_ALG_SHA256;
  sel.pcrSelections[0].sizeofSelect = 3;
  sel.pcrSelections[0].pcrSelect[0] = 0xff;
  sel.pcrSelections[0].pcrSelect[1] = 0xff;
  sel.pcrSelections[0].pcrSelect[2] = 0xff;
  return sel;
}

}  // namespace

struct EsysTpm::Impl {
  std::string tcti_name;
  TSS2_TCTI_CONTEXT* tcti = nullptr;
  ESYS_CONTEXT* ctx = nullptr;

  ~Impl() {
    if (ctx != nullptr) Esys_Finalize(&ctx);
    if (tcti != nullptr) Tss2_TctiLdr_Finalize(&tcti);
  }

  // Whether a persistent object or NV index exists (TPM2_GetCapability, so that a missing handle
  // is a quiet NOT_FOUND rather than an error logged by ESYS).
  absl::StatusOr<bool> Exists(uint32_t handle) {
    EsysFreer<TPMS_CAPABILITY_DATA> data;
    TPMI_YES_NO more = TPM2_NO;
    TSS2_RC rc =
        Esys_GetCapability(ctx, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_HANDLES, handle, 1, &more, &data.p);
    if (rc != TSS2_RC_SUCCESS) return TpmError(rc, "TPM2_GetCapability(handles)");
    return data.p->data.handles.count > 0 && data.p->data.handles.handle[0] == handle;
  }

  // An ESYS_TR for a persistent object or NV index; Close() releases it without flushing.
  absl::StatusOr<ESYS_TR> FromPublic(uint32_t handle, std::string_view what) {
    absl::StatusOr<bool> exists = Exists(handle);
    if (!exists.ok()) return exists.status();
    if (!*exists) return absl::NotFoundError(StrCat("no ", what, " at ", Hex32(handle)));
    ESYS_TR tr = ESYS_TR_NONE;
    TSS2_RC rc = Esys_TR_FromTPMPublic(ctx, handle, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &tr);
    if (rc != TSS2_RC_SUCCESS) return TpmError(rc, StrCat(what, " at ", Hex32(handle)));
    return tr;
  }
  void Close(ESYS_TR& tr) {
    if (tr != ESYS_TR_NONE) Esys_TR_Close(ctx, &tr);
    tr = ESYS_TR_NONE;
  }
  void Flush(ESYS_TR& tr) {
    if (tr != ESYS_TR_NONE) Esys_FlushContext(ctx, tr);
    tr = ESYS_TR_NONE;
  }

  absl::StatusOr<uint16_t> NvSize(ESYS_TR nv, uint32_t index) {
    EsysFreer<TPM2B_NV_PUBLIC> pub;
    EsysFreer<TPM2B_NAME> name;
    TSS2_RC rc = Esys_NV_ReadPublic(ctx, nv, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub.p, &name.p);
    if (rc != TSS2_RC_SUCCESS) return TpmError(rc, StrCat("TPM2_NV_ReadPublic ", Hex32(index)));
    return pub.p->nvPublic.dataSize;
  }
};

EsysTpm::EsysTpm(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EsysTpm::~EsysTpm() = default;

absl::StatusOr<std::unique_ptr<EsysTpm>> EsysTpm::Open(const std::string& tcti) {
  auto impl = std::make_unique<Impl>();
  impl->tcti_name = tcti;
  TSS2_RC rc = Tss2_TctiLdr_Initialize(tcti.c_str(), &impl->tcti);
  if (rc != TSS2_RC_SUCCESS) {
    return absl::UnavailableError(
        StrCat("cannot connect to the TPM through TCTI `", tcti, "`: ", Tss2_RC_Decode(rc), " (", Hex32(rc), ")"));
  }
  rc = Esys_Initialize(&impl->ctx, impl->tcti, nullptr);
  if (rc != TSS2_RC_SUCCESS) {
    return absl::UnavailableError(
        StrCat("cannot initialise ESYS over TCTI `", tcti, "`: ", Tss2_RC_Decode(rc), " (", Hex32(rc), ")"));
  }
  return std::unique_ptr<EsysTpm>(new EsysTpm(std::move(impl)));
}

absl::Status EsysTpm::StartupIfNeeded() {
  absl::MutexLock lock(&mu_);
  TSS2_RC rc = Esys_Startup(impl_->ctx, TPM2_SU_CLEAR);
  if (rc == TSS2_RC_SUCCESS || rc == TPM2_RC_INITIALIZE) return absl::OkStatus();
  return TpmError(rc, "TPM2_Startup(CLEAR)");
}

absl::StatusOr<TpmQuote> EsysTpm::Quote(uint32_t ak_handle, std::string_view qualifying_data) {
  if (qualifying_data.size() > kTpmMaxQualifyingData) {
    return absl::InvalidArgumentError(StrCat("TPM2_Quote: qualifying data is ", qualifying_data.size(),
                                             " bytes; a TPM2B_DATA holds at most ", kTpmMaxQualifyingData));
  }
  absl::MutexLock lock(&mu_);
  Impl& t = *impl_;
  absl::StatusOr<ESYS_TR> ak = t.FromPublic(ak_handle, "attestation key");
  if (!ak.ok()) return ak.status();
  ESYS_TR ak_tr = *ak;

  // HMAC session with XOR parameter encryption both ways, as upstream (§4.3).
  TPMT_SYM_DEF sym;
  std::memset(&sym, 0, sizeof sym);
  sym.algorithm = TPM2_ALG_XOR;
  sym.keyBits.exclusiveOr = TPM2_ALG_SHA256;
  sym.mode.aes = TPM2_ALG_NULL;
  ESYS_TR session = ESYS_TR_NONE;
  TSS2_RC rc = Esys_StartAuthSession(t.ctx, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                     nullptr, TPM2_SE_HMAC, &sym, TPM2_ALG_SHA256, &session);
  if (rc != TSS2_RC_SUCCESS) {
    t.Close(ak_tr);
    return TpmError(rc, "TPM2_StartAuthSession");
  }
  Esys_TRSess_SetAttributes(t.ctx, session, TPMA_SESSION_DECRYPT | TPMA_SESSION_ENCRYPT, 0xff);

  TPM2B_DATA qd;
  std::memset(&qd, 0, sizeof qd);
  qd.size = static_cast<UINT16>(qualifying_data.size());
  std::memcpy(qd.buffer, qualifying_data.data(), qualifying_data.size());
  TPMT_SIG_SCHEME scheme;
  std::memset(&scheme, 0, sizeof scheme);
  scheme.scheme = TPM2_ALG_RSASSA;
  scheme.details.rsassa.hashAlg = TPM2_ALG_SHA256;
  TPML_PCR_SELECTION sel = AllSha256Pcrs();
  EsysFreer<TPM2B_ATTEST> quoted;
  EsysFreer<TPMT_SIGNATURE> sig;
  rc = Esys_Quote(t.ctx, ak_tr, session, ESYS_TR_NONE, ESYS_TR_NONE, &qd, &scheme, &sel, &quoted.p, &sig.p);
  // Without continueSession the TPM ends the session when the command succeeds; flush it otherwise.
  if (rc != TSS2_RC_SUCCESS) t.Flush(session);
  t.Close(ak_tr);
  if (rc != TSS2_RC_SUCCESS) {
    absl::Status s = TpmError(rc, StrCat("TPM2_Quote with the key at ", Hex32(ak_handle)));
    if (s.code() == absl::StatusCode::kInvalidArgument) {
      return absl::InvalidArgumentError(StrCat("the TPM rejected ", qualifying_data.size(),
                                               " bytes of qualifying data (report data): ", ToStd(s.message())));
    }
    return s;
  }
  if (sig.p->sigAlg != TPM2_ALG_RSASSA) {
    return absl::FailedPreconditionError(
        StrCat("TPM2_Quote: the key at ", Hex32(ak_handle), " is not an RSASSA signing key"));
  }
  TpmQuote out;
  out.attest.assign(reinterpret_cast<const char*>(quoted.p->attestationData), quoted.p->size);
  uint8_t buf[sizeof(TPMT_SIGNATURE)];
  size_t off = 0;
  rc = Tss2_MU_TPMT_SIGNATURE_Marshal(sig.p, buf, sizeof buf, &off);
  if (rc != TSS2_RC_SUCCESS) return TpmError(rc, "marshalling TPMT_SIGNATURE");
  out.signature.assign(reinterpret_cast<const char*>(buf), off);
  out.raw_signature.assign(reinterpret_cast<const char*>(sig.p->signature.rsassa.sig.buffer),
                           sig.p->signature.rsassa.sig.size);
  return out;
}

absl::StatusOr<std::vector<std::string>> EsysTpm::ReadPcrs() {
  absl::MutexLock lock(&mu_);
  Impl& t = *impl_;
  std::vector<std::string> pcrs(kTpmPcrCount);
  TPML_PCR_SELECTION want = AllSha256Pcrs();
  for (int round = 0; round < kTpmPcrCount; ++round) {
    const auto& w = want.pcrSelections[0].pcrSelect;
    if (w[0] == 0 && w[1] == 0 && w[2] == 0) return pcrs;
    UINT32 counter = 0;
    EsysFreer<TPML_PCR_SELECTION> got;
    EsysFreer<TPML_DIGEST> values;
    TSS2_RC rc = Esys_PCR_Read(t.ctx, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &want, &counter, &got.p, &values.p);
    if (rc != TSS2_RC_SUCCESS) return TpmError(rc, "TPM2_PCR_Read sha256:0-23");
    if (got.p->count == 0 || values.p->count == 0) {
      return absl::UnavailableError("TPM2_PCR_Read: the TPM has no sha256 PCR bank (or returned no values)");
    }
    size_t k = 0;
    for (int i = 0; i < kTpmPcrCount; ++i) {
      if ((got.p->pcrSelections[0].pcrSelect[i / 8] & (1u << (i % 8))) == 0) continue;
      if (k >= values.p->count) return absl::UnavailableError("TPM2_PCR_Read: fewer values than selected PCRs");
      const TPM2B_DIGEST& d = values.p->digests[k++];
      pcrs[i].assign(reinterpret_cast<const char*>(d.buffer), d.size);
      want.pcrSelections[0].pcrSelect[i / 8] &= static_cast<uint8_t>(~(1u << (i % 8)));
    }
  }
  return absl::UnavailableError("TPM2_PCR_Read: the TPM kept returning no progress");
}

absl::Status EsysTpm::ExtendPcr(int index, std::string_view digest) {
  if (index < 0 || index >= kTpmPcrCount) {
    return absl::InvalidArgumentError(StrCat("PCR index ", index, " is outside 0..", kTpmPcrCount - 1));
  }
  if (digest.size() != kTpmSha256Size) {
    return absl::InvalidArgumentError(StrCat("a sha256 PCR extend needs a 32-byte digest, got ", digest.size()));
  }
  absl::MutexLock lock(&mu_);
  TPML_DIGEST_VALUES v;
  std::memset(&v, 0, sizeof v);
  v.count = 1;
  v.digests[0].hashAlg = TPM2_ALG_SHA256;
  std::memcpy(v.digests[0].digest.sha256, digest.data(), kTpmSha256Size);
  TSS2_RC rc = Esys_PCR_Extend(impl_->ctx, ESYS_TR_PCR0 + index, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &v);
  if (rc != TSS2_RC_SUCCESS) {
    return TpmError(rc, StrCat("TPM2_PCR_Extend sha256 PCR ", index,
                               (index >= 17 && index <= 22) ? " (PCRs 17-22 are not extendable at locality 0)" : ""));
  }
  return absl::OkStatus();
}

absl::StatusOr<TpmRsaPublic> EsysTpm::ReadRsaPublic(uint32_t handle) {
  absl::MutexLock lock(&mu_);
  Impl& t = *impl_;
  absl::StatusOr<ESYS_TR> key = t.FromPublic(handle, "key");
  if (!key.ok()) return key.status();
  ESYS_TR tr = *key;
  EsysFreer<TPM2B_PUBLIC> pub;
  EsysFreer<TPM2B_NAME> name;
  EsysFreer<TPM2B_NAME> qname;
  TSS2_RC rc = Esys_ReadPublic(t.ctx, tr, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub.p, &name.p, &qname.p);
  t.Close(tr);
  if (rc != TSS2_RC_SUCCESS) return TpmError(rc, StrCat("TPM2_ReadPublic ", Hex32(handle)));
  if (pub.p->publicArea.type != TPM2_ALG_RSA) {
    return absl::FailedPreconditionError(StrCat("the key at ", Hex32(handle), " is not an RSA key"));
  }
  TpmRsaPublic out;
  out.modulus.assign(reinterpret_cast<const char*>(pub.p->publicArea.unique.rsa.buffer),
                     pub.p->publicArea.unique.rsa.size);
  uint32_t e = pub.p->publicArea.parameters.rsaDetail.exponent;
  if (e == 0) e = 65537;
  std::string eb;
  for (int shift = 24; shift >= 0; shift -= 8) {
    uint8_t b = static_cast<uint8_t>(e >> shift);
    if (eb.empty() && b == 0) continue;
    eb.push_back(static_cast<char>(b));
  }
  out.exponent = eb;
  return out;
}

absl::StatusOr<std::string> EsysTpm::NvRead(uint32_t index) {
  absl::MutexLock lock(&mu_);
  Impl& t = *impl_;
  absl::StatusOr<ESYS_TR> nv = t.FromPublic(index, "NV index");
  if (!nv.ok()) return nv.status();
  ESYS_TR tr = *nv;
  absl::StatusOr<uint16_t> size = t.NvSize(tr, index);
  if (!size.ok()) {
    t.Close(tr);
    return size.status();
  }
  if (*size > kMaxNvSize) {
    t.Close(tr);
    return absl::ResourceExhaustedError(StrCat("NV index ", Hex32(index), " announces ", *size, " bytes"));
  }
  std::string out;
  while (out.size() < *size) {
    UINT16 n = static_cast<UINT16>(std::min(kNvChunk, *size - out.size()));
    EsysFreer<TPM2B_MAX_NV_BUFFER> data;
    TSS2_RC rc = Esys_NV_Read(t.ctx, ESYS_TR_RH_OWNER, tr, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, n,
                              static_cast<UINT16>(out.size()), &data.p);
    if (rc != TSS2_RC_SUCCESS) {
      t.Close(tr);
      return TpmError(rc, StrCat("TPM2_NV_Read ", Hex32(index), " at offset ", out.size()));
    }
    if (data.p->size == 0) break;
    out.append(reinterpret_cast<const char*>(data.p->buffer), data.p->size);
  }
  t.Close(tr);
  return out;
}

absl::Status EsysTpm::NvWriteDefining(uint32_t index, std::string_view data) {
  if (data.empty() || data.size() > kMaxNvSize) {
    return absl::InvalidArgumentError(StrCat("NV write of ", data.size(), " bytes: must be 1..", kMaxNvSize));
  }
  absl::MutexLock lock(&mu_);
  Impl& t = *impl_;
  ESYS_TR tr = ESYS_TR_NONE;
  absl::StatusOr<ESYS_TR> existing = t.FromPublic(index, "NV index");
  if (existing.ok()) {
    tr = *existing;
    absl::StatusOr<uint16_t> size = t.NvSize(tr, index);
    if (!size.ok()) {
      t.Close(tr);
      return size.status();
    }
    if (*size != data.size()) {
      TSS2_RC rc = Esys_NV_UndefineSpace(t.ctx, ESYS_TR_RH_OWNER, tr, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE);
      if (rc != TSS2_RC_SUCCESS) {
        t.Close(tr);
        return TpmError(rc, StrCat("TPM2_NV_UndefineSpace ", Hex32(index)));
      }
      tr = ESYS_TR_NONE;  // freed by ESYS on success
    }
  } else if (existing.status().code() != absl::StatusCode::kNotFound) {
    return existing.status();
  }
  if (tr == ESYS_TR_NONE) {
    TPM2B_AUTH auth;
    std::memset(&auth, 0, sizeof auth);
    TPM2B_NV_PUBLIC pub;
    std::memset(&pub, 0, sizeof pub);
    pub.nvPublic.nvIndex = index;
    pub.nvPublic.nameAlg = TPM2_ALG_SHA256;
    pub.nvPublic.attributes = TPMA_NV_OWNERWRITE | TPMA_NV_OWNERREAD | TPMA_NV_AUTHWRITE | TPMA_NV_AUTHREAD;
    pub.nvPublic.dataSize = static_cast<UINT16>(data.size());
    TSS2_RC rc =
        Esys_NV_DefineSpace(t.ctx, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &auth, &pub, &tr);
    if (rc != TSS2_RC_SUCCESS) return TpmError(rc, StrCat("TPM2_NV_DefineSpace ", Hex32(index)));
  }
  for (size_t off = 0; off < data.size(); off += kNvChunk) {
    TPM2B_MAX_NV_BUFFER buf;
    std::memset(&buf, 0, sizeof buf);
    buf.size = static_cast<UINT16>(std::min(kNvChunk, data.size() - off));
    std::memcpy(buf.buffer, data.data() + off, buf.size);
    TSS2_RC rc = Esys_NV_Write(t.ctx, ESYS_TR_RH_OWNER, tr, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &buf,
                               static_cast<UINT16>(off));
    if (rc != TSS2_RC_SUCCESS) {
      t.Close(tr);
      return TpmError(rc, StrCat("TPM2_NV_Write ", Hex32(index), " at offset ", off));
    }
  }
  t.Close(tr);
  return absl::OkStatus();
}

absl::Status EsysTpm::NvUndefine(uint32_t index) {
  absl::MutexLock lock(&mu_);
  Impl& t = *impl_;
  absl::StatusOr<ESYS_TR> nv = t.FromPublic(index, "NV index");
  if (!nv.ok()) return nv.status().code() == absl::StatusCode::kNotFound ? absl::OkStatus() : nv.status();
  TSS2_RC rc = Esys_NV_UndefineSpace(t.ctx, ESYS_TR_RH_OWNER, *nv, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE);
  if (rc != TSS2_RC_SUCCESS) {
    ESYS_TR tr = *nv;
    t.Close(tr);
    return TpmError(rc, StrCat("TPM2_NV_UndefineSpace ", Hex32(index)));
  }
  return absl::OkStatus();
}

absl::Status EsysTpm::ProvisionRsaAk(uint32_t handle, std::string_view label) {
  if (label.size() > 256) return absl::InvalidArgumentError("AK label longer than 256 bytes");
  absl::MutexLock lock(&mu_);
  Impl& t = *impl_;
  absl::StatusOr<ESYS_TR> old = t.FromPublic(handle, "persistent key");
  if (old.ok()) {
    ESYS_TR gone = ESYS_TR_NONE;
    TSS2_RC rc =
        Esys_EvictControl(t.ctx, ESYS_TR_RH_OWNER, *old, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, handle, &gone);
    if (rc != TSS2_RC_SUCCESS) {
      ESYS_TR tr = *old;
      t.Close(tr);
      return TpmError(rc, StrCat("TPM2_EvictControl (remove) ", Hex32(handle)));
    }
  }
  TPM2B_SENSITIVE_CREATE sensitive;
  std::memset(&sensitive, 0, sizeof sensitive);
  TPM2B_PUBLIC tmpl;
  std::memset(&tmpl, 0, sizeof tmpl);
  tmpl.publicArea.type = TPM2_ALG_RSA;
  tmpl.publicArea.nameAlg = TPM2_ALG_SHA256;
  tmpl.publicArea.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
                                     TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT;
  tmpl.publicArea.parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_NULL;
  tmpl.publicArea.parameters.rsaDetail.scheme.scheme = TPM2_ALG_RSASSA;
  tmpl.publicArea.parameters.rsaDetail.scheme.details.rsassa.hashAlg = TPM2_ALG_SHA256;
  tmpl.publicArea.parameters.rsaDetail.keyBits = 2048;
  tmpl.publicArea.parameters.rsaDetail.exponent = 0;
  tmpl.publicArea.unique.rsa.size = static_cast<UINT16>(label.size());
  std::memcpy(tmpl.publicArea.unique.rsa.buffer, label.data(), label.size());
  TPM2B_DATA outside;
  std::memset(&outside, 0, sizeof outside);
  TPML_PCR_SELECTION creation_pcr;
  std::memset(&creation_pcr, 0, sizeof creation_pcr);
  ESYS_TR primary = ESYS_TR_NONE;
  EsysFreer<TPM2B_PUBLIC> out_pub;
  EsysFreer<TPM2B_CREATION_DATA> creation_data;
  EsysFreer<TPM2B_DIGEST> creation_hash;
  EsysFreer<TPMT_TK_CREATION> ticket;
  TSS2_RC rc =
      Esys_CreatePrimary(t.ctx, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &sensitive, &tmpl,
                         &outside, &creation_pcr, &primary, &out_pub.p, &creation_data.p, &creation_hash.p, &ticket.p);
  if (rc != TSS2_RC_SUCCESS) return TpmError(rc, "TPM2_CreatePrimary (RSA AK)");
  ESYS_TR persistent = ESYS_TR_NONE;
  rc = Esys_EvictControl(t.ctx, ESYS_TR_RH_OWNER, primary, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, handle,
                         &persistent);
  t.Flush(primary);
  if (rc != TSS2_RC_SUCCESS) return TpmError(rc, StrCat("TPM2_EvictControl ", Hex32(handle)));
  t.Close(persistent);
  return absl::OkStatus();
}

}  // namespace cdh::attestation
