#!/usr/bin/python3
"""Builds an ocicrypt key-provider UnWrapKey input the way an image encryption tool would,
independently of cdh's C++ code (Debian's python3-cryptography): the layer key is wrapped with
AES-256-GCM under the KEK (tag appended, no AAD) and described by an AnnotationPacket
(cdh-api.md §10).

usage: make_keyprovider_input.py KEK_HEX LAYER_KEY_HEX KID [v1|v2]
prints the key-provider input JSON on stdout."""
import base64
import json
import os
import sys

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

kek = bytes.fromhex(sys.argv[1])
layer_key = bytes.fromhex(sys.argv[2])
kid = sys.argv[3]
version = sys.argv[4] if len(sys.argv) > 4 else "v2"
iv = os.urandom(12)
wrapped = AESGCM(kek).encrypt(iv, layer_key, None)  # ciphertext || 16-byte tag
packet = {"kid": kid, "wrapped_data": base64.b64encode(wrapped).decode(),
          "iv": base64.b64encode(iv).decode(), "wrap_type": "A256GCM"}
if version == "v2":
    packet.update({"version": "0.1.0", "provider": "kbs", "provider_settings": {}, "annotations": {}})
print(json.dumps({
    "op": "keyunwrap",
    "keywrapparams": {"ec": None, "optsdata": None},
    "keyunwrapparams": {"dc": None, "annotation": base64.b64encode(json.dumps(packet).encode()).decode()},
}))
