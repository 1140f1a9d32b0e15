# Guest side, second boot of kernel_path_test.py, after the host flipped bytes in the data area of
# TAMPER: reading the changed blocks must fail with an I/O error (EILSEQ from the tag check, or
# EIO) and every other block must read back as written (no garbage). Then the kata agent's own SecureMount flows (cdh-api.md §11.6, §14) with
# the daemon at upstream's socket path, as the agent starts it (no -c, ttrpc).
# Disks (env): TAMPER, CARRY (its detached header), STORE, EMPTYDIR (blank).
set -u
source "$CDH_GUEST_RIG/lib.sh"
load_modules
D=$CDH_DATA
mkdir -p /run/mnt

# --- tampering is detected -------------------------------------------------------------------------
mkdir -p "$CDH_RUN/base/luks-headers"
hdr="$CDH_RUN/base/luks-headers/$(printf '%s' "$TAMPER" | base64 -w0 | tr '+/' '-_' | tr -d '=').header"
head -c 16777216 "$CARRY" >"$hdr"
# The data hub binds a detached header to its device for this boot only (device number, the
# kernel's disk sequence number, size: storage/block_device_driver.h); a header that turns up in
# another boot is discarded. The test carries it across a reboot only so the host can tamper
# with the disk in between, so it binds the header to the same disk again, in the driver's format.
/usr/bin/python3 - "$TAMPER" "$hdr.binding" <<'PYEOF'
import fcntl, os, struct, sys
dev, out = sys.argv[1], sys.argv[2]
fd = os.open(dev, os.O_RDONLY)
size = struct.unpack("Q", fcntl.ioctl(fd, 0x80081272, b"\0" * 8))[0]  # BLKGETSIZE64
seq = struct.unpack("Q", fcntl.ioctl(fd, 0x80081280, b"\0" * 8))[0]  # BLKGETDISKSEQ
rdev = os.fstat(fd).st_rdev
with open(out, "w") as f:
    f.write(f"cdh-luks2-header-binding v1 blk:{rdev} diskseq {seq} size {size}\n")
os.chmod(out, 0o600)
PYEOF
size=$(dd if="$CARRY" bs=1 skip=$((20 << 20)) count=16 2>/dev/null | sed 's/^0*//')
start_daemon || { fail daemon_start "see the console"; exit 1; }
mount_vol /run/mnt/tamper devicePath="$TAMPER" sourceType=encrypted targetType=device key="file://$D/kempty"
rc=$?
check tampered_volume_opens "rc $rc" test $rc -eq 0
# Read every 4 KiB block with O_DIRECT (no page cache, no read-ahead hiding which block failed).
result=$(/usr/bin/python3 - /run/mnt/tamper "$D/pattern" "$size" <<'EOF'
import errno, mmap, os, sys
dev, pat, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
fd = os.open(dev, os.O_RDONLY | os.O_DIRECT)
buf = mmap.mmap(-1, 4096)
eio = garbage = good = 0
with open(pat, "rb") as p:
    for off in range(0, size, 4096):
        p.seek(off)
        want = p.read(4096)
        try:
            n = os.preadv(fd, [buf], off)
            if buf[:n] == want:
                good += 1
            else:
                garbage += 1
        except OSError as e:
            # dm-crypt and dm-integrity fail a bad tag with EILSEQ (BLK_STS_PROTECTION); EIO
            # is the generic read error. Anything else is not what this test expects.
            if e.errno not in (errno.EIO, errno.EILSEQ):
                raise
            eio += 1
print(f"{eio} {garbage} {good}")
EOF
)
read -r eio garbage good <<<"$result"
check tamper_detected_as_io_error "EILSEQ/EIO blocks ${eio:-?}, wrong data ${garbage:-?}, intact ${good:-?}" \
  test "${eio:-0}" -ge 1 -a "${garbage:-1}" -eq 0 -a "${good:-0}" -gt 0
unmount_vol /run/mnt/tamper
stop_daemon

# --- the kata agent's flows -------------------------------------------------------------------------
# The agent runs the daemon without a configuration file and talks ttrpc on upstream's socket.
mkdir -p /run/confidential-containers
"$CDH_DAEMON" >"$CDH_RUN/agent-daemon.log" 2>&1 &
DAEMON_PID=$!
for i in $(seq 1 300); do [ -S /run/confidential-containers/cdh.sock ] && break; sleep 0.1; done
check agent_daemon_upstream_socket "" test -S /run/confidential-containers/cdh.sock
agent_mount() {  # MOUNT_POINT DEVICE MKFS_OPTS: the options the agent sends (no key: ephemeral)
  local majmin
  majmin=$(printf '%d:%d' "0x$(stat -c %t "$2")" "0x$(stat -c %T "$2")")
  mkdir -p "$1"  # the agent creates the mount point
  "$CDH_TOOL" --ttrpc --timeout 300 secure-mount --volume-type block-device --mount-point "$1" \
    --option deviceId="$majmin" --option sourceType=empty --option targetType=fileSystem \
    --option filesystemType=ext4 --option "mkfsOpts=$3" --option encryptionType=luks2 \
    --option dataIntegrity=true 2>"$CDH_RUN/last.err" >/dev/null
}
# Trusted image store: a container spec listing /dev/trusted_store.
agent_mount /run/kata-containers/image "$STORE" "-E lazy_journal_init"
rc=$?
echo "layer" >/run/kata-containers/image/layer.txt 2>/dev/null && sync
src=$(findmnt -n -o SOURCE /run/kata-containers/image)
table=$(dmsetup table 2>&1 | tr '\n' ';')
check agent_trusted_store "rc $rc $(head -c 200 $CDH_RUN/last.err) src $src" \
  test $rc -eq 0 -a "$(cat /run/kata-containers/image/layer.txt 2>/dev/null)" = layer
# Ephemeral encrypted emptyDir (driver option encryption_key=ephemeral).
agent_mount /run/kata-containers/sandbox/storage/emptydir "$EMPTYDIR" "-O ^has_journal -m 0 -i 163840 -I 128"
rc=$?
echo "scratch" >/run/kata-containers/sandbox/storage/emptydir/f 2>/dev/null && sync
esrc=$(findmnt -n -o SOURCE /run/kata-containers/sandbox/storage/emptydir)
features=$(dumpe2fs -h "$esrc" 2>/dev/null | grep -i 'features' | head -1)
isize=$(dumpe2fs -h "$esrc" 2>/dev/null | sed -n 's/^Inode size://p' | tr -dc 0-9)
check agent_ephemeral_emptydir "rc $rc $(head -c 200 $CDH_RUN/last.err); inode size $isize; $features" \
  test $rc -eq 0 -a "$(cat /run/kata-containers/sandbox/storage/emptydir/f 2>/dev/null)" = scratch \
  -a "$isize" = 128
case "$features" in *has_journal*) fail agent_emptydir_mkfs_opts "$features" ;;
  *) pass agent_emptydir_mkfs_opts "no journal" ;; esac
n_integrity=$(dmsetup table 2>/dev/null | grep -c ' integrity ')
check agent_volumes_have_integrity "$n_integrity dm-integrity devices" test "$n_integrity" -eq 2
stop_daemon
rc=$?
check agent_shutdown_tears_down "daemon rc $rc, left: [$(dm_names | tr '\n' ' ')]" \
  test $rc -eq 0 -a -z "$(dm_names)"
exit 0
