#!/usr/bin/python3
"""The guest test rig: runs a script inside a real Linux guest kernel under qemu.

The build machines have no device-mapper; a Debian guest kernel under qemu has dm-crypt and
dm-integrity, as a kata guest does. Nothing is installed into an image: the host's root file
system is shared read-only over 9p, so the guest runs the host's binaries, libraries, kernel
modules and the project's build tree. The initramfs (busybox-static and the modules needed to
reach 9p) mounts it at /host with a tmpfs on /run, chroots into it and runs the job's script.

Result protocol: the guest script prints one line per check,
    CDH-CHECK <name> PASS|FAIL|SKIP <detail>
and init prints `CDH-GUEST-DONE <rc>` last. `run_guest` returns them parsed.

Data disks are raw files given as virtio disks (/dev/vda, /dev/vdb, ... in order); what the guest
writes lands in those files, so the host can check or tamper with them between two boots.

Acceleration: software emulation (TCG) by default. KVM stalls on these machines (nested
virtualisation), so it is used only with CDH_GUEST_ACCEL=kvm, or CDH_GUEST_ACCEL=auto after a
short probe boot succeeded.

Environment: CDH_GUEST_KERNEL (a vmlinuz path; default: the newest /boot/vmlinuz-* whose
/lib/modules/<version> exists), CDH_GUEST_ACCEL (tcg | kvm | auto).
Exit code 77 from the tests means "skipped" (ctest SKIP_RETURN_CODE), with the reason printed.
"""

import dataclasses
import glob
import gzip
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

SKIP = 77

# Module chain to reach the host root over 9p (each a dependency of the next), then the disks.
INITRAMFS_MODULES = [
    "virtio_ring", "virtio", "virtio_pci_legacy_dev", "virtio_pci_modern_dev", "virtio_pci",
    "netfs", "fscache", "9pnet", "9pnet_virtio", "9p", "virtio_blk",
]

HERE = os.path.dirname(os.path.abspath(__file__))


class Skip(Exception):
    """The guest cannot run on this machine; the message says why."""


@dataclasses.dataclass
class Check:
    name: str
    result: str  # PASS | FAIL | SKIP
    detail: str


@dataclasses.dataclass
class GuestRun:
    checks: list
    exit_code: int  # the guest script's exit code; None when the guest never finished
    seconds: float
    console: str

    def failed(self):
        return [c for c in self.checks if c.result != "PASS"]


def find_kernel():
    """(vmlinuz path, module dir) or raises Skip."""
    wanted = os.environ.get("CDH_GUEST_KERNEL")
    candidates = [wanted] if wanted else sorted(glob.glob("/boot/vmlinuz-*"), reverse=True)
    for k in candidates:
        version = os.path.basename(k)[len("vmlinuz-"):]
        moddir = "/lib/modules/" + version
        if os.path.isfile(k) and os.access(k, os.R_OK) and os.path.isdir(moddir):
            return k, moddir
    raise Skip("no guest kernel: install linux-image-amd64 (need /boot/vmlinuz-<v> and /lib/modules/<v>)")


def find_qemu():
    q = shutil.which("qemu-system-x86_64")
    if not q:
        raise Skip("qemu-system-x86_64 is not installed (package qemu-system-x86)")
    return q


def _module_path(moddir, name):
    out = subprocess.run(["modinfo", "-k", os.path.basename(moddir), "-n", name],
                         capture_output=True, text=True)
    path = out.stdout.strip().splitlines()[0] if out.returncode == 0 and out.stdout.strip() else ""
    if not path or not os.path.isfile(path):
        raise Skip(f"kernel module {name} not found under {moddir}")
    return path


def _read_module(path):
    with open(path, "rb") as f:
        data = f.read()
    if path.endswith(".xz"):
        import lzma
        data = lzma.decompress(data)
    elif path.endswith(".zst"):
        raise Skip(f"zstd-compressed module {path} is not supported by the rig")
    return data


def _cpio_newc(entries):
    """entries: (name, mode, bytes or None for a directory). A gzip'ed newc archive."""
    buf = io.BytesIO()
    ino = 1
    for name, mode, data in entries + [("TRAILER!!!", 0, b"")]:
        data = data or b""
        nameb = name.encode() + b"\0"
        hdr = "070701" + "".join(f"{v:08X}" for v in (
            ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(nameb), 0))
        buf.write(hdr.encode() + nameb)
        buf.write(b"\0" * ((4 - (110 + len(nameb)) % 4) % 4))
        buf.write(data)
        buf.write(b"\0" * ((4 - len(data) % 4) % 4))
        ino += 1
    return gzip.compress(buf.getvalue(), compresslevel=1)


def build_initramfs(moddir, out_path):
    busybox = "/bin/busybox" if os.path.exists("/bin/busybox") else shutil.which("busybox")
    if not busybox:
        raise Skip("busybox is not installed (package busybox-static)")
    # The static build is needed: the initramfs has no libraries (ldd fails on static binaries).
    if subprocess.run(["ldd", busybox], capture_output=True).returncode == 0:
        raise Skip(f"{busybox} is not statically linked (package busybox-static)")
    with open(busybox, "rb") as f:
        bb = f.read()
    with open(os.path.join(HERE, "init.sh"), "rb") as f:
        init = f.read()
    entries = [("bin", 0o40755, None), ("proc", 0o40755, None), ("sys", 0o40755, None),
               ("dev", 0o40755, None), ("modules", 0o40755, None),
               ("bin/busybox", 0o100755, bb), ("init", 0o100755, init),
               ("modules.order", 0o100644, "\n".join(INITRAMFS_MODULES).encode() + b"\n")]
    for m in INITRAMFS_MODULES:
        entries.append((f"modules/{m}.ko", 0o100644, _read_module(_module_path(moddir, m))))
    tmp = out_path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(_cpio_newc(entries))
    os.replace(tmp, out_path)


def _accel(qemu, kernel, initrd):
    mode = os.environ.get("CDH_GUEST_ACCEL", "tcg")
    if mode == "kvm":
        return "kvm"
    if mode != "auto" or not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return "tcg"
    # Probe: a KVM guest that cannot even reach init within 20 s is treated as unusable.
    try:
        out = subprocess.run([qemu, "-machine", "q35,accel=kvm", "-cpu", "host", "-m", "512",
                              "-nographic", "-no-reboot", "-kernel", kernel, "-initrd", initrd,
                              "-append", "console=ttyS0 panic=-1 quiet rdinit=/bin/busybox poweroff -f"],
                             capture_output=True, timeout=20)
        return "kvm" if out.returncode == 0 else "tcg"
    except subprocess.TimeoutExpired:
        return "tcg"


def run_guest(script, work_dir, disks=(), env=None, timeout=240, memory_mib=1024, log=None):
    """Boots the guest, runs `script` (a host path; bash) in it, returns a GuestRun.

    `disks`: raw image files attached in order (/dev/vda, /dev/vdb, ...). `env`: variables for
    the script. `work_dir` must be on the host's root file system (it is read in the guest
    through 9p). qemu is killed after `timeout` seconds. Raises Skip when the guest cannot run.
    """
    qemu = find_qemu()
    kernel, moddir = find_kernel()
    work_dir = os.path.abspath(work_dir)  # the guest resolves it from its own root
    os.makedirs(work_dir, exist_ok=True)
    initrd = os.path.join(work_dir, "initramfs.cpio.gz")
    if not os.path.exists(initrd):
        build_initramfs(moddir, initrd)
    job = os.path.join(work_dir, "job")
    os.makedirs(job, exist_ok=True)
    lines = ["#!/bin/bash", "export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
             "export TMPDIR=/run/tmp HOME=/run/home", "mkdir -p /run/tmp /run/home",
             f"export CDH_GUEST_RIG={HERE}"]
    for k, v in (env or {}).items():
        lines.append(f"export {k}={_shell_quote(v)}")
    # bash reads a script as it runs it: run a private copy, so that editing the source tree
    # during a run cannot change what the guest executes.
    lines.append(f"cp {_shell_quote(os.path.abspath(script))} /run/cdh-guest-script.sh")
    lines.append("exec /bin/bash /run/cdh-guest-script.sh")
    with open(os.path.join(job, "run.sh"), "w") as f:
        f.write("\n".join(lines) + "\n")
    accel = _accel(qemu, kernel, initrd)
    argv = [qemu, "-machine", f"q35,accel={accel}", "-cpu", "max" if accel == "tcg" else "host",
            "-smp", "2", "-m", str(memory_mib), "-nographic", "-no-reboot", "-nodefaults",
            "-serial", "stdio", "-kernel", kernel, "-initrd", initrd,
            "-append", f"console=ttyS0 panic=-1 quiet loglevel=3 mitigations=off cdh.job={job}",
            "-virtfs", "local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap"]
    for d in disks:
        argv += ["-drive", f"file={os.path.abspath(d)},if=virtio,format=raw,cache=unsafe"]
    start = time.monotonic()
    # The console also goes to work_dir/console.log as it arrives (for watching a slow run).
    own_log = log is None
    if own_log:
        log = open(os.path.join(work_dir, "console.log"), "w")
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    console = []
    try:
        deadline = start + timeout
        import selectors
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        pending = b""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                console.append(f"[rig] timeout after {timeout} s; killing qemu\n")
                break
            if not sel.select(timeout=min(left, 5)):
                continue
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                break
            pending += chunk
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                text = line.decode(errors="replace").rstrip("\r")
                console.append(text + "\n")
                if log:
                    log.write(text + "\n")
                    log.flush()
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        if own_log:
            log.close()
    seconds = time.monotonic() - start
    text = "".join(console)
    checks = [Check(m.group(1), m.group(2), m.group(3).strip())
              for m in re.finditer(r"CDH-CHECK (\S+) (PASS|FAIL|SKIP) ?(.*)", text)]
    done = re.search(r"CDH-GUEST-DONE (\d+)", text)
    return GuestRun(checks, int(done.group(1)) if done else None, seconds, text)


def _shell_quote(s):
    return "'" + str(s).replace("'", "'\\''") + "'"


def report(run, expected=()):
    """Prints the checks; returns 0 if the guest finished, every check passed and every name in
    `expected` was reported, else 1."""
    ok = run.exit_code == 0
    for c in run.checks:
        print(f"{c.result} {c.name} {c.detail}")
    seen = {c.name for c in run.checks}
    for name in expected:
        if name not in seen:
            print(f"FAIL {name} (not reported by the guest)")
            ok = False
    if run.failed():
        ok = False
    print(f"guest: exit {run.exit_code}, {run.seconds:.1f} s")
    if not ok:
        print("---- guest console ----")
        print(run.console[-20000:])
    return 0 if ok else 1


def skip_reason():
    """Why the guest cannot run here, or ''."""
    try:
        find_qemu()
        find_kernel()
        if not (shutil.which("busybox") or os.path.exists("/bin/busybox")):
            raise Skip("busybox is not installed (package busybox-static)")
        if os.geteuid() != 0:
            raise Skip("guest tests need root (raw disks for the guest, loop and FUSE on the host)")
    except Skip as e:
        return str(e)
    return ""


def make_work_dir(build_dir, name):
    """A fresh directory for one test's images and job, below the build tree (which the guest sees
    over 9p). Removed by the caller."""
    base = os.path.join(os.path.abspath(build_dir), "tests", "guest", "work")
    os.makedirs(base, exist_ok=True)
    return tempfile.mkdtemp(prefix=name + "-", dir=base)


def test_main(work_name, run, host_skip_reason=lambda: ""):
    """The command line every guest test shares: --daemon, --tool, --build-dir, --keep. Skips (77)
    with the reason when the rig or the host lacks something; otherwise runs run(args, work_dir)
    in a fresh work directory (kept with --keep) and returns its exit status."""
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("--daemon", required=True)
    ap.add_argument("--tool", required=True)
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    a = ap.parse_args()
    why = skip_reason() or host_skip_reason()
    if why:
        print("skipped:", why)
        return SKIP
    work = make_work_dir(a.build_dir, work_name)
    try:
        return run(a, work)
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    # Manual use: guest_rig.py SCRIPT [DISK...]
    if len(sys.argv) < 2:
        print(__doc__)
        sys.exit(2)
    why = skip_reason()
    if why:
        print("skipped:", why)
        sys.exit(SKIP)
    wd = tempfile.mkdtemp(prefix="cdh-guest-", dir=os.getcwd())
    r = run_guest(sys.argv[1], wd, disks=sys.argv[2:], log=sys.stdout)
    sys.exit(report(r))
