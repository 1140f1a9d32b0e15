#!/usr/bin/python3
"""Cross-check of the two data paths of SecureMount against each other, byte for byte.

For LUKS2 images with 512- and 4096-byte sectors (made by `cryptsetup reencrypt --encrypt`):
  1. host, userspace path (our AES-XTS engine behind FUSE and a loop device, through the real
     daemon with data_path = "userspace"): write pattern A over the whole plaintext device;
  2. guest kernel, kernel path (dm-crypt): read it back (sha256 of the whole device equals A's),
     then write pattern B over it (cross_check.sh);
  3. host, userspace path again: the whole device reads back as B.
So each path decrypts exactly what the other encrypted, in both directions and both sector sizes.
Needs root, /dev/fuse and loop devices on the host, qemu and a guest kernel; exit 77 = skipped.

Usage: cross_check_test.py --daemon BIN --tool BIN --build-dir DIR
"""

import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guest_rig  # noqa: E402
import luks_images as li  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
MiB = 1 << 20
SECTORS = (512, 4096)


class HostDaemon:
    """The real daemon on the host with the userspace data path, sockets in `work`."""

    def __init__(self, daemon, tool, work):
        self.tool = tool
        self.run = os.path.join(work, "host-run")
        os.makedirs(self.run, exist_ok=True)
        self.grpc = os.path.join(self.run, "grpc.sock")
        cfg = os.path.join(self.run, "cdh.toml")
        with open(os.path.join(self.run, "resources.json"), "w") as f:
            f.write("{}")
        with open(cfg, "w") as f:
            f.write(f'socket = "unix://{self.run}/ttrpc.sock"\ngrpc_socket = "unix://{self.grpc}"\n'
                    f'[kbc]\nname = "offline_fs_kbc"\n[offline_fs_kbc]\nresource_files = ["{self.run}/resources.json"]\n'
                    f'[paths]\nbase_dir = "{self.run}/base"\n[secure_mount]\ndata_path = "userspace"\n')
        self.log = open(os.path.join(self.run, "daemon.log"), "w")
        self.proc = subprocess.Popen([daemon, "-c", cfg], stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(300):
            if os.path.exists(self.grpc) or self.proc.poll() is not None:
                break
            time.sleep(0.1)
        if not os.path.exists(self.grpc):
            raise RuntimeError("host daemon did not start: " + open(self.log.name).read())

    def call(self, *args):
        out = subprocess.run([self.tool, "--socket", f"unix://{self.grpc}", "--timeout", "120", *args],
                             capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError(f"cdh-tool {' '.join(args)}: {out.stderr.strip()}")

    def mount(self, mp, device, key):
        self.call("secure-mount", "--volume-type", "block-device", "--mount-point", mp,
                  "--option", f"devicePath={device}", "--option", "sourceType=encrypted",
                  "--option", "targetType=device", "--option", "encryptionType=luks2", "--option", f"key=file://{key}")

    def unmount(self, mp):
        self.call("unmount", "--mount-point", mp)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=60)
        self.log.close()
        return rc


def host_skip_reason():
    for dev in ("/dev/fuse", "/dev/loop-control"):
        if not os.path.exists(dev):
            return f"{dev} is missing: the userspace path cannot run on this host"
    return ""


def device_size(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.lseek(fd, 0, os.SEEK_END)
    finally:
        os.close(fd)


def write_device(path, src):
    subprocess.run(["dd", f"if={src}", f"of={path}", "bs=1M", "oflag=direct", "iflag=fullblock", "status=none"],
                   check=True)


def main():
    return guest_rig.test_main("cross-check", run, host_skip_reason)


def run(a, work):
    data = os.path.join(work, "data")
    os.makedirs(data)
    images = {}
    for n in SECTORS:
        key = os.path.join(data, f"k{n}")
        with open(key, "w") as f:
            f.write(f"cross-check-{n}")
        plain = li.pattern(os.path.join(work, f"plain{n}"), 2 * MiB, f"plain{n}")
        images[n] = os.path.join(work, f"vol{n}.img")
        li.luks_image(images[n], plain, key, sector_size=n, pbkdf="argon2id" if n == 4096 else "pbkdf2")
    failures = []

    # 1. userspace path on the host writes pattern A.
    d = HostDaemon(a.daemon, a.tool, work)
    sizes = {}
    try:
        for n in SECTORS:
            mp = os.path.join(work, f"host{n}")
            d.mount(mp, images[n], os.path.join(data, f"k{n}"))
            sizes[n] = device_size(mp)
            a_file = li.pattern(os.path.join(data, f"{n}.host"), sizes[n], f"host{n}")
            write_device(mp, a_file)
            with open(os.path.join(data, f"{n}.size"), "w") as f:
                f.write(str(sizes[n]))
            with open(os.path.join(data, f"{n}.written.sha"), "w") as f:
                f.write(li.sha256_file(a_file))
            li.pattern(os.path.join(data, f"{n}.guest"), sizes[n], f"guest{n}")
            d.unmount(mp)
    finally:
        if d.stop() != 0:
            failures.append("host daemon exit code")

    # 2. kernel path in the guest reads A and writes B.
    env = {"CDH_DAEMON": os.path.abspath(a.daemon), "CDH_TOOL": os.path.abspath(a.tool), "CDH_DATA": data,
           "VOL512": "/dev/vda", "VOL4096": "/dev/vdb"}
    g = guest_rig.run_guest(os.path.join(HERE, "cross_check.sh"), os.path.join(work, "boot"),
                            disks=[images[n] for n in SECTORS], env=env, timeout=1500)
    rc = guest_rig.report(g, [f"kernel_reads_userspace_{n}" for n in SECTORS] + [f"kernel_writes_{n}" for n in SECTORS])

    # 3. userspace path on the host reads B.
    d = HostDaemon(a.daemon, a.tool, work)
    try:
        for n in SECTORS:
            mp = os.path.join(work, f"host{n}")
            d.mount(mp, images[n], os.path.join(data, f"k{n}"))
            got = li.sha256_file(mp)
            want = li.sha256_file(os.path.join(data, f"{n}.guest"))
            ok = got == want and device_size(mp) == sizes[n]
            print(f"{'PASS' if ok else 'FAIL'} userspace_reads_kernel_{n} sha {got}")
            if not ok:
                failures.append(f"userspace_reads_kernel_{n}")
            d.unmount(mp)
    finally:
        if d.stop() != 0:
            failures.append("host daemon exit code")
    print(f"guest wall time: {g.seconds:.1f} s")
    return 1 if rc or failures else 0


if __name__ == "__main__":
    sys.exit(main())
