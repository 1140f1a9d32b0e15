# Guest side of cross_check_test.py: the kernel path (dm-crypt) reads what the host's userspace
# path (our AES-XTS engine behind FUSE) wrote, and writes what the host will read back with it.
# Disks (env): VOL512, VOL4096. CDH_DATA/<n>.size, <n>.written.sha (what the host wrote),
# <n>.key; the guest writes CDH_DATA/<n>.guest (pattern) over the whole plaintext device.
set -u
source "$CDH_GUEST_RIG/lib.sh"
load_modules
D=$CDH_DATA
start_daemon || { fail daemon_start "see the console"; exit 1; }
mkdir -p /run/mnt
for n in 512 4096; do
  var="VOL$n"
  mount_vol /run/mnt/v$n devicePath="${!var}" sourceType=encrypted targetType=device key="file://$D/k$n" ||
    { fail "kernel_reads_userspace_$n" "mount: $(cat $CDH_RUN/last.err)"; continue; }
  size=$(blockdev --getsize64 /run/mnt/v$n)
  got=$(device_sha /run/mnt/v$n "$size")
  check "kernel_reads_userspace_$n" "plaintext $size bytes (host: $(cat $D/$n.size)), sha $got" \
    test "$size" = "$(cat $D/$n.size)" -a "$got" = "$(cat $D/$n.written.sha)"
  dd if="$D/$n.guest" of=/run/mnt/v$n bs=1M oflag=direct iflag=fullblock 2>/dev/null
  rc=$?
  check "kernel_writes_$n" "dd rc $rc" test $rc -eq 0 -a "$(device_sha /run/mnt/v$n "$size")" = "$(sha_of <"$D/$n.guest")"
  unmount_vol /run/mnt/v$n
done
stop_daemon
exit 0
