#!/usr/bin/env python3
"""Writes the text seeds of the fuzz corpora (fuzz/corpus/<target>/seed-*) from the tests'
own inputs: the spec and known-answer vectors (tests/spec_vectors.h, tests/kbs_kat_vectors.h),
the string literals of each parser's unit tests, tar archives made with Python's tarfile and
LUKS2 headers made by `cryptsetup luksFormat` on small files. Binary TEE/ttrpc seeds come from
fuzz/seed_corpus.cc. Run from the repository root; then minimise with `scripts/fuzz.sh --merge`.
"""
import base64
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")


def write(target, name, data):
    if isinstance(data, str):
        data = data.encode()
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def src(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return f.read()


def c_unescape(s):
    return s.encode("latin-1", "backslashreplace").decode("unicode_escape").encode("latin-1", "replace")


def raw_literals(path):
    return [m.group(2).encode() for m in re.finditer(r'R"([^(\s]*)\((.*?)\)\1"', src(path), re.S)]


def string_literals(path):
    text = re.sub(r'R"([^(\s]*)\((.*?)\)\1"', "", src(path), flags=re.S)
    text = re.sub(r"(?m)^\s*//[^\n]*", "", text)
    return [c_unescape(m.group(1)) for m in re.finditer(r'"((?:[^"\\\n]|\\.)*)"', text)]


def constant(path, name):
    """The value of `inline constexpr char name[] = "..." "...";` or a raw literal."""
    m = re.search(r"\b%s\[\]\s*=\s*(.*?);\n" % re.escape(name), src(path), re.S)
    body = m.group(1)
    raw = re.match(r'\s*R"([^(\s]*)\((.*?)\)\1"', body, re.S)
    if raw:
        return raw.group(2).encode()
    return b"".join(c_unescape(p) for p in re.findall(r'"((?:[^"\\\n]|\\.)*)"', body))


def unique(items):
    seen, out = set(), []
    for i in items:
        if i not in seen:
            seen.add(i)
            out.append(i)
    return out


def numbered(target, prefix, items, head=b""):
    for i, item in enumerate(unique(items)):
        write(target, "%s-%02d" % (prefix, i), head + item)


def main():
    spec, kat = "tests/spec_vectors.h", "tests/kbs_kat_vectors.h"

    # Sealed secrets: the four upstream vectors, and one with the newline Kubernetes adds.
    sealed = [constant(spec, n) for n in ("kKataSealed", "kLocalSealed", "kEnvelopeSealed", "kLegacySealed")]
    numbered("sealed_secret", "vector", sealed + [sealed[0] + b"\n"])

    # JWE: the known-answer bodies; byte 0 picks the key (0 EC, 1 RSA).
    write("jwe", "ec", b"\0" + constant(kat, "kEcJwe"))
    write("jwe", "rsa", b"\1" + constant(kat, "kRsaJwe"))

    # KBS protocol answers: the tests' bodies, a token and its /attest answer.
    token = constant(kat, "kAdminToken")
    numbered("kbs_protocol", "test", raw_literals("kbs-client/kbs_protocol_test.cc") +
             [token, b'{"token":"' + token + b'"}',
              b'{"nonce":"' + constant(kat, "kNonce") + b'","extra-params":""}',
              b'{"nonce":"abc","extra-params":{"selected-hash-algorithm":"sha256"}}',
              b'{"type":"https://github.com/confidential-containers/kbs/errors/PolicyDeny","detail":"denied"}'])

    numbered("resource_uri", "test", [s for s in string_literals("resources/resource_uri_test.cc") if b"kbs:" in s])
    numbered("image_reference", "test", [s for s in string_literals("image/reference_test.cc")
                                         if s and b" " not in s and not s.endswith(b".h")][:40])

    # Configuration: AA_KBC_PARAMS and the kernel command line are FuzzedDataProvider strings
    # ended by "\\" + another byte; the format is the last byte (1 = JSON).
    cfg = [t for t in raw_literals("daemon/config_test.cc") if b"\n" in t or t.startswith(b"{")]
    for i, text in enumerate(unique(cfg)):
        fmt = b"\1" if text.lstrip().startswith(b"{") else b"\0"
        write("config", "test-%02d" % i, b"\\n\\n" + text + fmt)
    write("config", "env-cmdline", b"cc_kbc::http://127.0.0.1:8080\\nagent.aa_kbc_params=cc_kbc::http://[::1]:80 quiet\\n\0")
    numbered("aa_config", "test", [(b"\1" if t.lstrip().startswith(b"{") else b"\0") + t
                                   for t in raw_literals("daemon/aa_config_test.cc")])

    init = b'version = "0.1.0"\nalgorithm = "%s"\n[data]\n"cdh.toml" = \'\'\'\nsocket = "unix:///run/cdh.sock"\n\'\'\'\n'
    for alg in (b"sha256", b"sha384", b"sha512"):
        write("init_data", alg.decode(), init % alg)
    write("init_data", "policy", init % b"sha384" + b'"policy.rego" = \'\'\'\npackage agent_policy\ndefault AddARPNeighborsRequest := true\n\'\'\'\n')

    numbered("image_policy", "policy", raw_literals("image/policy/policy_test.cc"), b"\0")
    numbered("image_policy", "payload", raw_literals("image/policy/signature_payload_test.cc"), b"\1")
    numbered("image_policy", "lookaside", raw_literals("image/policy/lookaside_config_test.cc"), b"\2")
    numbered("image_manifest", "test", raw_literals("image/manifest_test.cc"))
    # An encrypted layer (ocicrypt, provider attestation-agent) whose packet the fuzz KMS opens.
    packet = json.dumps({"kid": "kbs:///default/key/layer", "wrapped_data": base64.b64encode(b"wrapped-layer-key").decode(),
                         "iv": base64.b64encode(b"\0" * 12).decode(), "wrap_type": "A256GCM"}).encode()
    pubopts = json.dumps({"cipher": "AES_256_CTR_HMAC_SHA256", "hmac": base64.b64encode(b"h" * 32).decode(),
                          "cipheroptions": {}}).encode()
    write("image_manifest", "encrypted", json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 2,
                   "digest": "sha256:" + hashlib.sha256(b"{}").hexdigest()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip+encrypted", "size": 10,
                    "digest": "sha256:" + hashlib.sha256(b"layer").hexdigest(),
                    "annotations": {"org.opencontainers.image.enc.keys.provider.attestation-agent":
                                    base64.b64encode(packet).decode(),
                                    "org.opencontainers.image.enc.pubopts": base64.b64encode(pubopts).decode()}}]}))

    # SecureMount options: pairs from the known keys (FuzzedDataProvider: the pair count, each
    # key choice and index are read from the end, strings from the front).
    keys = ["sourceType", "targetType", "encryptionType", "key", "deviceId", "devicePath", "mkfsOpts",
            "filesystemType", "dataIntegrity", "mapperName"]

    def mount(name, pairs):
        front, back = b"", b""
        for k, v in pairs:
            front += v.encode().replace(b"\\", b"\\\\") + b"\\n"
            back = bytes([keys.index(k), 1]) + back  # read from the end: bool (1), then the key index
        write("secure_mount_options", name, front + back + bytes([len(pairs)]))
    base = [("deviceId", "8:0"), ("sourceType", "empty"), ("encryptionType", "luks2"), ("targetType", "fileSystem")]
    mount("empty-luks2", base + [("key", "kbs:///default/key/1")])
    mount("integrity-mkfs", base + [("key", "sealed.abc.def.ghi"), ("dataIntegrity", "true"),
                                    ("mkfsOpts", "-O ^has_journal -E stride=8 -m 0")])
    mount("encrypted-device", [("devicePath", "/dev/vdb"), ("sourceType", "encrypted"), ("targetType", "device"),
                               ("key", "file:///run/key.bin"), ("mapperName", "vol1")])
    numbered("registry", "config", raw_literals("image/registry_config_test.cc"), b"\0")
    numbered("registry", "auth", raw_literals("image/registry_auth_test.cc"), b"\1")

    # UnWrapKey requests (ocicrypt keyprovider protocol) with v0.1.0 annotation packets.
    def unwrap(packet):
        return json.dumps({"op": "keyunwrap", "keywrapparams": {}, "keyunwrapparams": {
            "dc": None, "annotation": base64.b64encode(json.dumps(packet).encode()).decode()}}).encode()
    wrapped = base64.b64encode(b"wrapped-layer-key").decode()
    write("key_unwrapper", "kbs", unwrap({"kid": "kbs:///default/key/layer", "wrapped_data": wrapped,
                                           "iv": base64.b64encode(b"\0" * 12).decode(), "wrap_type": "A256GCM"}))
    write("key_unwrapper", "aliyun", unwrap({"version": "0.1.0", "provider": "aliyun", "kid": "kbs:///default/key/layer",
                                              "wrapped_data": wrapped, "provider_settings": {"region": "x"},
                                              "annotations": {"iv": "AAAA"}}))
    write("key_unwrapper", "keywrap", b'{"op":"keywrap","keywrapparams":{},"keyunwrapparams":{}}')

    write("http_headers", "session", b"kbs-session-id=0123abcd; Path=/kbs/v0; HttpOnly\\n/kbs/v0/auth\\n\x01\x01\x00")
    write("http_headers", "two", b"a=b; Path=/\\nc=d; Max-Age=0\\n/kbs/v0/attest\\n\x01\x01\x02\x00")

    # Layer tars: files, directories, links, whiteouts, PAX xattrs, and hostile names.
    def tar(name, entries, fmt=tarfile.PAX_FORMAT):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
            for info, data in entries:
                info.size = len(data) if data is not None else 0
                t.addfile(info, io.BytesIO(data) if data else None)
        data = buf.getvalue().rstrip(b"\0")
        data += b"\0" * (-len(data) % 512) + b"\0" * 1024
        write("tar", name, b"\0" + data)

    def ti(name, kind=tarfile.REGTYPE, link="", mode=0o644, pax=None):
        info = tarfile.TarInfo(name)
        info.type, info.linkname, info.mode, info.mtime = kind, link, mode, 1700000000
        if pax:
            info.pax_headers = pax
        return info
    tar("tree", [(ti("app/", tarfile.DIRTYPE, mode=0o755), None), (ti("app/score.sh", mode=0o755), b"#!/bin/sh\necho 1\n"),
                 (ti("app/link", tarfile.SYMTYPE, "score.sh"), None), (ti("app/hard", tarfile.LNKTYPE, "app/score.sh"), None)])
    tar("whiteouts", [(ti("etc/", tarfile.DIRTYPE, mode=0o755), None), (ti("etc/.wh.passwd"), b""),
                      (ti("var/.wh..wh..opq"), b""), (ti("dev/null", tarfile.CHRTYPE), None)])
    tar("hostile", [(ti("../escape"), b"x"), (ti("/abs/file"), b"y"), (ti("dir", tarfile.SYMTYPE, "/"), None),
                    (ti("dir/through"), b"z")])
    tar("xattrs", [(ti("f", pax={"SCHILY.xattr.user.k": "v", "SCHILY.xattr.trusted.overlay.opaque": "y"}), b"d")])
    tar("gnu-longname", [(ti("a/" + "n" * 150), b"long")], fmt=tarfile.GNU_FORMAT)

    luks2_seeds()


def luks2_seeds():
    """Real LUKS2 headers: flags byte and header-size byte, then (JSON mode) the JSON area text or
    (raw mode, flag 1) the two binary headers as written (fuzz/luks2_metadata_fuzzer.cc)."""
    with tempfile.TemporaryDirectory() as d:
        variants = {"xts256": ["--key-size", "256"], "xts512": ["--key-size", "512"],
                    "pbkdf2-sector4k": ["--key-size", "256", "--pbkdf", "pbkdf2", "--sector-size", "4096"]}
        for name, extra in variants.items():
            img = os.path.join(d, name + ".img")
            with open(img, "wb") as f:
                f.truncate(4 << 20)
            keyfile = os.path.join(d, "key")
            with open(keyfile, "wb") as f:
                f.write(b"fuzz-seed-passphrase")
            cmd = ["cryptsetup", "luksFormat", "--batch-mode", "--type", "luks2", "--cipher", "aes-xts-plain64",
                   "--luks2-metadata-size", "16k", "--luks2-keyslots-size", "256k", "--pbkdf-force-iterations", "1000",
                   "--key-file", keyfile] + extra + [img]
            if "--pbkdf" not in extra:
                cmd[cmd.index("--pbkdf-force-iterations"):cmd.index("--pbkdf-force-iterations") + 2] = [
                    "--pbkdf", "argon2id", "--pbkdf-memory", "32", "--pbkdf-force-iterations", "4"]
            subprocess.run(cmd, check=True, capture_output=True)
            with open(img, "rb") as f:
                head = f.read(32 << 10)
            hdr = int.from_bytes(head[8:16], "big")
            area = head[4096:hdr].rstrip(b"\0")
            write("luks2_metadata", name + "-json", b"\0\0" + area)
            write("luks2_metadata", name + "-raw", b"\x01\0" + head[:2 * hdr])


if __name__ == "__main__":
    sys.exit(main())
