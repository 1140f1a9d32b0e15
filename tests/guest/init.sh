#!/bin/busybox sh
# /init of the guest test rig's initramfs (tests/guest/guest_rig.py). Reaches the host's root
# file system over 9p, mounts it read-only at /host with a tmpfs on /host/run, and runs the job
# named on the kernel command line (cdh.job=DIR: DIR/run.sh, a path on the host) in a chroot.
# Prints CDH-GUEST-DONE <exit code> and powers off.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
job=""
for arg in $(cat /proc/cmdline); do
  case "$arg" in cdh.job=*) job="${arg#cdh.job=}" ;; esac
done
# Each module is a dependency of the next; the kernel's auto-loading cannot reach /lib/modules here.
for m in $(cat /modules.order); do insmod "/modules/$m.ko" || echo "CDH-GUEST-INIT insmod $m failed"; done
mkdir -p /host
if ! mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144 host /host; then
  echo "CDH-GUEST-DONE 125 (9p mount failed)"
  poweroff -f
fi
mount -t proc proc /host/proc
mount -t sysfs sysfs /host/sys
mount -t devtmpfs devtmpfs /host/dev
mount -t tmpfs -o mode=0755,size=512m tmpfs /host/run
mkdir -p /host/dev/pts /host/dev/shm
mount -t devpts devpts /host/dev/pts
mount -t tmpfs tmpfs /host/dev/shm
rc=126
if [ -n "$job" ]; then
  chroot /host /bin/bash "$job/run.sh" </dev/null
  rc=$?
fi
sync
echo "CDH-GUEST-DONE $rc"
poweroff -f
