#!/usr/bin/python3
"""SecureMount on the kernel data path (dm-crypt, dm-integrity) in a real guest kernel.

Two boots of the guest rig (guest_rig.py) with the build tree's daemon and cdh-tool:
  1. kernel_path.sh: cryptsetup-made images (512-byte sectors/pbkdf2, 4096/argon2id) read back
     exactly, two volumes at once, mapperName, Unmount removes the mapping, failed mounts and
     hostile headers leave no mapping, sourceType=empty with and without integrity survives
     unmount and reopen, an integrity volume is wiped on format, shutdown tears all down.
  2. The host flips bytes in the data area of the integrity volume's disk file, then
     kernel_path_reboot.sh reads it back: the changed blocks fail with EIO, the rest is intact.
     Then the kata agent's trusted-store and ephemeral-emptyDir requests over ttrpc.

Usage: kernel_path_test.py --daemon BIN --tool BIN --build-dir DIR. Exit 77 = skipped.
"""

import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guest_rig  # noqa: E402
import luks_images as li  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
MiB = 1 << 20

FIRST_BOOT_CHECKS = [
    "daemon_kernel_path", "two_volumes_at_once", "cryptsetup_512_pbkdf2_reads_back",
    "cryptsetup_4096_argon2id_reads_back", "mapper_name_honoured", "sector_size_4096_in_table",
    "unmount_removes_mapping", "failed_mount_leaves_no_mapping", "wrong_key_refused",
    "integrity_asked_on_plain_volume_refused", "empty_plain_format_write_reopen", "empty_plain_has_no_integrity",
    "empty_integrity_format_write_reopen", "empty_integrity_uses_dm_integrity",
    "integrity_format_target_device", "integrity_unwritten_sectors_read", "integrity_pattern_written",
    "header_carried", "shutdown_tears_down",
]
SECOND_BOOT_CHECKS = [
    "tampered_volume_opens", "tamper_detected_as_io_error", "agent_daemon_upstream_socket", "agent_trusted_store",
    "agent_ephemeral_emptydir", "agent_emptydir_mkfs_opts", "agent_volumes_have_integrity",
    "agent_shutdown_tears_down",
]

# Hostile headers the userspace path refuses (storage/luks2_metadata.h): each must be refused on
# the kernel path too, before libcryptsetup activates anything.
HOSTILE = {
    "null_cipher": lambda j: j["segments"]["0"].__setitem__("encryption", "cipher_null-ecb"),
    "argon2_4gib": lambda j: j["keyslots"]["0"]["kdf"].update(
        {"type": "argon2id", "time": 4, "memory": 4194304, "cpus": 1}),
    "keyslot_outside_region": lambda j: j["keyslots"]["0"]["area"].__setitem__("offset", "0"),
    "reencrypt_unfinished": lambda j: j["config"].__setitem__("requirements", {"mandatory": ["online-reencrypt-v2"]}),
    "crc32c_integrity": lambda j: j["segments"]["0"].__setitem__(
        "integrity", {"type": "crc32c", "journal_encryption": "none", "journal_integrity": "none"}),
}


def main():
    return guest_rig.test_main("kernel-path", run)


def run(a, work):
    data = os.path.join(work, "data")
    os.makedirs(data)
    plain_bytes = 2 * MiB
    li.pattern(os.path.join(data, "pattern"), 20 * MiB, "kernel-path")
    for name, key in (("k512", "key-512"), ("k4096", "key-4096"), ("kempty", "key-for-empty-volumes")):
        with open(os.path.join(data, name), "w") as f:
            f.write(key)
    with open(os.path.join(data, "plain_bytes"), "w") as f:
        f.write(str(plain_bytes))
    disks = {}

    def disk(role, path):
        disks[role] = path
        return path

    for sector, pbkdf in ((512, "pbkdf2"), (4096, "argon2id")):
        plain = li.pattern(os.path.join(work, f"plain{sector}"), plain_bytes, f"plain{sector}")
        with open(os.path.join(data, f"plain{sector}.sha"), "w") as f:
            f.write(li.sha256_file(plain))
        li.luks_image(disk(f"IMG{sector}", os.path.join(work, f"img{sector}.img")), plain,
                      os.path.join(data, f"k{sector}"), sector_size=sector, pbkdf=pbkdf)
    for name, edit in HOSTILE.items():
        path = disk(f"HOSTILE_{name}", os.path.join(work, f"hostile-{name}.img"))
        shutil.copyfile(disks["IMG512"], path)
        li.edit_json(path, edit)
    li.blank(disk("EMPTY_PLAIN", os.path.join(work, "empty-plain.img")), 16 * MiB)
    li.blank(disk("EMPTY_INTEGRITY", os.path.join(work, "empty-integrity.img")), 16 * MiB)
    li.blank(disk("TAMPER", os.path.join(work, "tamper.img")), 8 * MiB)
    li.blank(disk("CARRY", os.path.join(work, "carry.img")), 24 * MiB)

    roles = list(disks)
    env = {"CDH_DAEMON": os.path.abspath(a.daemon), "CDH_TOOL": os.path.abspath(a.tool), "CDH_DATA": data,
           "HOSTILE_NAMES": " ".join(HOSTILE)}
    for i, role in enumerate(roles):
        env[role] = "/dev/vd" + chr(ord("a") + i)
    print(f"boot 1: {len(roles)} disks", flush=True)
    first = guest_rig.run_guest(os.path.join(HERE, "kernel_path.sh"), os.path.join(work, "boot1"),
                                disks=[disks[r] for r in roles], env=env, timeout=1500)
    expected1 = FIRST_BOOT_CHECKS + [f"hostile_header_refused_{h}" for h in HOSTILE]
    rc1 = guest_rig.report(first, expected1)

    # Tamper: flip bytes well inside the data area (past the dm-integrity superblock and
    # journal at the start of the device; the pattern covered every sector).
    size = os.path.getsize(disks["TAMPER"])
    offsets = [size * k // 10 + 1234 for k in (5, 6, 7, 8)]
    li.flip_bytes(disks["TAMPER"], offsets)
    print(f"host: flipped bytes at {offsets} of {os.path.basename(disks['TAMPER'])}", flush=True)

    disks2 = {"TAMPER": disks["TAMPER"], "CARRY": disks["CARRY"],
              "STORE": li.blank(os.path.join(work, "store.img"), 16 * MiB),
              "EMPTYDIR": li.blank(os.path.join(work, "emptydir.img"), 16 * MiB)}
    env2 = {k: v for k, v in env.items() if not k.startswith("HOSTILE") and k not in disks}
    roles2 = list(disks2)
    for i, role in enumerate(roles2):
        env2[role] = "/dev/vd" + chr(ord("a") + i)
    print("boot 2", flush=True)
    second = guest_rig.run_guest(os.path.join(HERE, "kernel_path_reboot.sh"), os.path.join(work, "boot2"),
                                 disks=[disks2[r] for r in roles2], env=env2, timeout=1500)
    rc2 = guest_rig.report(second, SECOND_BOOT_CHECKS)
    print(f"guest wall time: {first.seconds + second.seconds:.1f} s (boot 1 {first.seconds:.1f} s, "
          f"boot 2 {second.seconds:.1f} s)")
    return 1 if rc1 or rc2 else 0


if __name__ == "__main__":
    sys.exit(main())
