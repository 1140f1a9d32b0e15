"""Host-side disk images for the guest tests: real LUKS2 images made by the `cryptsetup` binary,
hostile copies of them (JSON edited, checksums recomputed, as a host could write them), blank
disks, and byte flips for tampering.

LUKS2 on-disk layout used here (cryptsetup's docs/on-disk-format-luks2.pdf): a 4096-byte binary
header (magic, version, hdr_size at byte 8 big-endian, sha256 checksum at byte 448 over hdr_size
bytes with the checksum field zeroed) followed by the JSON area, twice (the secondary copy at
hdr_size), then the keyslot areas.
"""

import hashlib
import json
import os
import random
import subprocess


def run(argv, **kw):
    out = subprocess.run(argv, capture_output=True, text=True, **kw)
    if out.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed ({out.returncode}): {out.stderr.strip()[:500]}")
    return out.stdout


def blank(path, size):
    with open(path, "wb") as f:
        f.truncate(size)
    return path


def pattern(path, size, seed):
    """A file of `size` pseudo-random bytes, reproducible from `seed`."""
    with open(path, "wb") as f:
        f.write(random.Random(seed).randbytes(size))
    return path


def sha256_file(path, size=None):
    h = hashlib.sha256()
    left = size
    with open(path, "rb") as f:
        while left is None or left > 0:
            chunk = f.read(1 << 20 if left is None else min(1 << 20, left))
            if not chunk:
                break
            h.update(chunk)
            if left is not None:
                left -= len(chunk)
    return h.hexdigest()


def luks_image(path, plaintext, key_file, sector_size=512, pbkdf="pbkdf2", tail=4 << 20):
    """Turns a copy of the file `plaintext` into a LUKS2 image at `path` with `cryptsetup
    reencrypt --encrypt` (offline, no device-mapper): header in the first 2 MiB, the plaintext
    right after it, `tail` - 2 MiB of zeros after that. Returns the data offset in bytes."""
    with open(plaintext, "rb") as src, open(path, "wb") as dst:
        dst.write(src.read())
        dst.truncate(dst.tell() + tail)
    if pbkdf == "pbkdf2":
        kdf = ["--pbkdf", "pbkdf2", "--pbkdf-force-iterations", "1000", "--hash", "sha256"]
    else:
        kdf = ["--pbkdf", pbkdf, "--pbkdf-memory", "32768", "--pbkdf-parallel", "1", "--pbkdf-force-iterations", "4"]
    run(["cryptsetup", "reencrypt", "--encrypt", "--type", "luks2", "--reduce-device-size", str(tail),
         "--luks2-metadata-size", "16k", "--luks2-keyslots-size", "1M", "--batch-mode", "--key-file", key_file,
         "--sector-size", str(sector_size), "--cipher", "aes-xts-plain64", "--key-size", "512"] + kdf + [path])
    return data_offset(path)


def data_offset(path):
    with open(path, "rb") as f:
        return int(_read_json(f.read(8 << 20))[0]["segments"]["0"]["offset"])


def _read_json(region):
    hdr_size = int.from_bytes(region[8:16], "big")
    area = region[4096:hdr_size]
    return json.loads(area[: area.index(b"\0")]), hdr_size


def _seal(region, off, hdr_size, text):
    area = text + b"\0" * (hdr_size - 4096 - len(text))
    hdr = bytearray(region[off: off + 4096]) + area
    hdr[448:448 + 64] = b"\0" * 64
    hdr[448:448 + 32] = hashlib.sha256(bytes(hdr)).digest()
    region[off: off + hdr_size] = hdr


def edit_json(path, edit):
    """Applies `edit(json_dict)` to both header copies of the LUKS2 image `path` and recomputes
    their checksums: a self-consistent hostile header."""
    with open(path, "r+b") as f:
        region = bytearray(f.read(1 << 20))
        meta, hdr_size = _read_json(region)
        edit(meta)
        text = json.dumps(meta, separators=(",", ":")).encode()
        if len(text) >= hdr_size - 4096:
            raise ValueError("edited JSON does not fit the header")
        _seal(region, 0, hdr_size, text)
        _seal(region, hdr_size, hdr_size, text)
        f.seek(0)
        f.write(region[: 2 * hdr_size])


def flip_bytes(path, offsets):
    """XORs 0xff into the byte at each offset of `path`."""
    with open(path, "r+b") as f:
        for off in offsets:
            f.seek(off)
            b = f.read(1)
            f.seek(off)
            f.write(bytes([b[0] ^ 0xFF]))
