#!/usr/bin/python3
"""Cosign-format image signatures for the tests and the demo (Debian ships no cosign, and its
skopeo refuses sigstore signing).

  cosign_sign.py keygen PREFIX
      writes PREFIX.key (PKCS#8 PEM, ECDSA P-256, unencrypted: a test key) and PREFIX.pub
      (SubjectPublicKeyInfo PEM, what a policy's keyPath names).
  cosign_sign.py sign REGISTRY_URL REPO TAG_OR_DIGEST KEY [--identity REF] [--digest D]
                       [--type T] [--creds user:pass]
      signs the manifest that TAG_OR_DIGEST resolves to and attaches the signature to it in REPO
      exactly as cosign does (--digest D puts another digest in the payload: a valid signature
      of another image attached to this one, as re-tagging would produce)
      (sigstore/cosign specs/SIGNATURE_SPEC.md; containers/image with
      use-sigstore-attachments): tag `sha256-<hex>.sig`, an OCI image manifest whose config is
      {"architecture":"","os":"","config":{},"rootfs":{"type":"layers","diff_ids":[…]}} and
      whose layers are the payload blobs (media type
      application/vnd.dev.cosign.simplesigning.v1+json), each with the standard base64 of the
      ASN.1 DER ECDSA P-256/SHA-256 signature of the exact payload bytes in annotation
      dev.cosignproject.cosign/signature. An existing .sig manifest gets the new layer
      appended. The payload is
      {"critical":{"identity":{"docker-reference":REF},"image":{"docker-manifest-digest":D},
       "type":"cosign container image signature"},"optional":null}
      with REF = --identity, default "<registry host>/<REPO>" (cosign writes the repository).
      Prints the signed digest.
"""
import argparse
import base64
import json
import sys
import urllib.parse

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from registry_http import Registry, canonical_json

SIMPLESIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"


def keygen(prefix):
    key = ec.generate_private_key(ec.SECP256R1())
    with open(prefix + ".key", "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    with open(prefix + ".pub", "wb") as f:
        f.write(key.public_key().public_bytes(serialization.Encoding.PEM,
                                              serialization.PublicFormat.SubjectPublicKeyInfo))


def sign(args):
    reg = Registry(args.registry, args.creds)
    got = reg.get_manifest(args.repo, args.tag_or_digest)
    if got is None:
        sys.exit(f"manifest {args.repo}:{args.tag_or_digest} not found")
    attached_to = got[2]
    digest = args.digest or attached_to
    host = urllib.parse.urlparse(args.registry).netloc
    identity = args.identity or f"{host}/{args.repo}"
    payload = canonical_json({"critical": {"identity": {"docker-reference": identity},
                                           "image": {"docker-manifest-digest": digest},
                                           "type": args.type},
                              "optional": None})
    with open(args.key, "rb") as f:
        key = serialization.load_pem_private_key(f.read(), password=None)
    signature = key.sign(payload, ec.ECDSA(hashes.SHA256()))
    payload_digest = reg.push_blob(args.repo, payload)
    layer = {"mediaType": SIMPLESIGNING, "digest": payload_digest, "size": len(payload),
             "annotations": {"dev.cosignproject.cosign/signature": base64.b64encode(signature).decode()}}
    tag = attached_to.replace(":", "-", 1) + ".sig"
    existing = reg.get_manifest(args.repo, tag)
    layers = json.loads(existing[0])["layers"] if existing else []
    layers.append(layer)
    config = canonical_json({"architecture": "", "os": "", "config": {},
                             "rootfs": {"type": "layers", "diff_ids": [l["digest"] for l in layers]}})
    config_digest = reg.push_blob(args.repo, config)
    manifest = canonical_json({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                               "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": len(config)},
                               "layers": layers})
    reg.push_manifest(args.repo, tag, manifest, OCI_MANIFEST)
    print(digest)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    k = sub.add_parser("keygen")
    k.add_argument("prefix")
    s = sub.add_parser("sign")
    s.add_argument("registry")
    s.add_argument("repo")
    s.add_argument("tag_or_digest")
    s.add_argument("key")
    s.add_argument("--identity", default="")
    s.add_argument("--digest", default="")
    s.add_argument("--type", default="cosign container image signature")
    s.add_argument("--creds", default="")
    args = p.parse_args()
    if args.cmd == "keygen":
        keygen(args.prefix)
    else:
        sign(args)


if __name__ == "__main__":
    main()
