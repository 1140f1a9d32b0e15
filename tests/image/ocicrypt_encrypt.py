#!/usr/bin/python3
"""An independent ocicrypt encryptor for the tests and the demo (Debian 12's skopeo has no
key-provider support): turns a plain OCI image into one whose layers are encrypted the way
containers/ocicrypt does it, with the layer key wrapped for the CoCo key provider.

Per layer (containers/ocicrypt spec/spec.go, blockcipher/blockcipher_aes_ctr.go):
  - symkey = 32 random bytes, nonce = 16 random bytes;
  - ciphertext = AES-256-CTR(symkey, initial counter = nonce, plain blob) (same length);
  - hmac = HMAC-SHA256(symkey, ciphertext);
  - private options (optsdata) = {"symkey":B64,"digest":<plain blob digest>,
    "cipheroptions":{"nonce":B64}}, wrapped as the CoCo annotation packet
    {"kid":KID,"wrapped_data":B64(AES-256-GCM(KEK, iv, optsdata) || tag),"iv":B64(12 bytes),
     "wrap_type":"A256GCM"} (guest-components attestation-agent/coco_keyprovider);
  - annotations: org.opencontainers.image.enc.keys.provider.attestation-agent = B64(packet),
    org.opencontainers.image.enc.pubopts = B64({"cipher":"AES_256_CTR_HMAC_SHA256",
    "hmac":B64,"cipheroptions":{}});
  - media type + "+encrypted".

  ocicrypt_encrypt.py push LAYOUT REF REGISTRY_URL REPO TAG --kek FILE --kid URI [--tamper]
      reads image REF from the OCI layout directory LAYOUT (umoci/skopeo `oci:` layout), encrypts
      every layer and pushes blobs and manifest to REGISTRY_URL as REPO:TAG. --tamper flips one
      ciphertext byte after the HMAC was computed; the blob is pushed under the digest of the
      flipped bytes, so only the HMAC can catch it. Prints the manifest digest.
  ocicrypt_encrypt.py kat OUT.json
      writes a known-answer vector with fixed keys (for the C++ unit test).
"""
import argparse
import base64
import hashlib
import hmac as hmac_mod
import json
import os
import sys

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from registry_http import Registry, canonical_json, sha256_digest

PROVIDER_ANNOTATION = "org.opencontainers.image.enc.keys.provider.attestation-agent"
PUBOPTS_ANNOTATION = "org.opencontainers.image.enc.pubopts"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def encrypt_layer(plain: bytes, kek: bytes, kid: str, symkey=None, nonce=None, iv=None, tamper=False):
    symkey = symkey or os.urandom(32)
    nonce = nonce or os.urandom(16)
    iv = iv or os.urandom(12)
    enc = Cipher(algorithms.AES(symkey), modes.CTR(nonce)).encryptor()
    ciphertext = enc.update(plain) + enc.finalize()
    mac = hmac_mod.new(symkey, ciphertext, hashlib.sha256).digest()
    if tamper:
        pos = len(ciphertext) // 2
        ciphertext = ciphertext[:pos] + bytes([ciphertext[pos] ^ 0x01]) + ciphertext[pos + 1:]
    optsdata = canonical_json({"symkey": b64(symkey), "digest": sha256_digest(plain),
                               "cipheroptions": {"nonce": b64(nonce)}})
    wrapped = AESGCM(kek).encrypt(iv, optsdata, None)  # ciphertext || 16-byte tag
    packet = canonical_json({"kid": kid, "wrapped_data": b64(wrapped), "iv": b64(iv), "wrap_type": "A256GCM"})
    pubopts = canonical_json({"cipher": "AES_256_CTR_HMAC_SHA256", "hmac": b64(mac), "cipheroptions": {}})
    annotations = {PROVIDER_ANNOTATION: b64(packet), PUBOPTS_ANNOTATION: b64(pubopts)}
    return ciphertext, annotations


def read_layout_image(layout: str, ref: str):
    with open(os.path.join(layout, "index.json")) as f:
        index = json.load(f)
    for m in index["manifests"]:
        if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == ref:
            return m["digest"]
    sys.exit(f"image {ref} not found in {layout}")


def blob(layout: str, digest: str) -> bytes:
    algo, hexd = digest.split(":", 1)
    with open(os.path.join(layout, "blobs", algo, hexd), "rb") as f:
        return f.read()


def push(args):
    with open(args.kek, "rb") as f:
        kek = f.read()
    if len(kek) != 32:
        sys.exit("the KEK must be 32 bytes")
    reg = Registry(args.registry, args.creds)
    manifest = json.loads(blob(args.layout, read_layout_image(args.layout, args.ref)))
    config = blob(args.layout, manifest["config"]["digest"])
    reg.push_blob(args.repo, config)
    for layer in manifest["layers"]:
        if layer["mediaType"].endswith("+encrypted"):
            sys.exit("the image is already encrypted")
        ciphertext, annotations = encrypt_layer(blob(args.layout, layer["digest"]), kek, args.kid,
                                                tamper=args.tamper)
        layer["mediaType"] += "+encrypted"
        layer["digest"] = reg.push_blob(args.repo, ciphertext)
        layer["size"] = len(ciphertext)
        layer.setdefault("annotations", {}).update(annotations)
    manifest["mediaType"] = "application/vnd.oci.image.manifest.v1+json"
    body = canonical_json(manifest)
    print(reg.push_manifest(args.repo, args.tag, body, manifest["mediaType"]))


def kat(args):
    kek = bytes(range(32))
    plain = b"ocicrypt known-answer layer: " + bytes(range(256)) * 3
    ciphertext, annotations = encrypt_layer(plain, kek, "kbs:///default/image-kek/1", symkey=bytes([7] * 32),
                                            nonce=bytes(range(16)), iv=bytes([9] * 12))
    with open(args.out, "w") as f:
        json.dump({"kek_hex": kek.hex(), "kid": "kbs:///default/image-kek/1", "annotations": annotations,
                   "ciphertext_b64": b64(ciphertext), "plaintext_b64": b64(plain),
                   "ciphertext_digest": sha256_digest(ciphertext)}, f, indent=1, sort_keys=True)
        f.write("\n")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("push")
    s.add_argument("layout")
    s.add_argument("ref")
    s.add_argument("registry")
    s.add_argument("repo")
    s.add_argument("tag")
    s.add_argument("--kek", required=True)
    s.add_argument("--kid", required=True)
    s.add_argument("--tamper", action="store_true")
    s.add_argument("--creds", default="")
    k = sub.add_parser("kat")
    k.add_argument("out")
    args = p.parse_args()
    push(args) if args.cmd == "push" else kat(args)


if __name__ == "__main__":
    main()
