# Helpers for the guest-side scripts of tests/guest (sourced; bash, run inside the guest's chroot
# of the host root, see guest_rig.py). Every check prints exactly one result line:
#   CDH-CHECK <name> PASS|FAIL <detail>
# Environment from the host driver: CDH_DAEMON, CDH_TOOL (binaries of the build tree), CDH_DATA
# (the host's directory of keys and expected hashes, read-only here).

pass() { echo "CDH-CHECK $1 PASS ${*:2}"; }
fail() { echo "CDH-CHECK $1 FAIL ${*:2}"; }
# check NAME DETAIL COMMAND...: PASS when COMMAND succeeds.
check() {
  local name=$1 detail=$2
  shift 2
  if "$@"; then pass "$name" "$detail"; else fail "$name" "$detail"; fi
}
note() { echo "[guest] $*"; }

# The kernel's module auto-loading cannot reach this chroot: load what dm-crypt, dm-integrity and
# ext4 need up front (aesni_intel: AES-NI is emulated by qemu's -cpu max).
load_modules() {
  local m
  for m in dm-mod dm-crypt dm-integrity xts aesni_intel cbc sha256_generic hmac authenc ext4 loop fuse; do
    modprobe "$m" 2>/dev/null || note "modprobe $m failed"
  done
}

# Our device-mapper devices: every dm name (cdh-* mappings, their *_dif integrity devices and
# named ones) except what the caller lists as expected.
dm_names() {
  local f
  for f in /sys/block/dm-*/dm/name; do [ -e "$f" ] && cat "$f"; done | sort
}
no_mappings() { [ -z "$(dm_names)" ]; }
is_mounted() { grep -q " $1 " /proc/self/mountinfo; }

CDH_RUN=/run/cdh-guest
DAEMON_PID=""
# start_daemon [CONFIG]: the build tree's daemon with a config whose sockets and base_dir are
# below $CDH_RUN (or CONFIG as given). Waits for the gRPC socket.
start_daemon() {
  mkdir -p "$CDH_RUN"
  local cfg=${1:-$CDH_RUN/cdh.toml}
  if [ -z "${1:-}" ]; then
    cat >"$cfg" <<EOF
socket = "unix://$CDH_RUN/ttrpc.sock"
grpc_socket = "unix://$CDH_RUN/grpc.sock"
[kbc]
name = "offline_fs_kbc"
[offline_fs_kbc]
resource_files = ["$CDH_RUN/resources.json"]
[paths]
base_dir = "$CDH_RUN/base"
EOF
    echo '{}' >"$CDH_RUN/resources.json"
  fi
  "$CDH_DAEMON" -c "$cfg" >>"$CDH_RUN/daemon.log" 2>&1 &
  DAEMON_PID=$!
  local i
  for i in $(seq 1 300); do
    [ -S "$CDH_RUN/grpc.sock" ] && return 0
    kill -0 "$DAEMON_PID" 2>/dev/null || break
    sleep 0.1
  done
  note "daemon did not start:"
  cat "$CDH_RUN/daemon.log"
  return 1
}

# stop_daemon: SIGTERM and wait (the daemon tears its volumes down).
stop_daemon() {
  [ -n "$DAEMON_PID" ] || return 0
  kill -TERM "$DAEMON_PID" 2>/dev/null
  wait "$DAEMON_PID"
  local rc=$?
  DAEMON_PID=""
  return $rc
}

# tool ARGS...: cdh-tool over the daemon's gRPC socket; stderr kept in $CDH_RUN/last.err.
tool() {
  "$CDH_TOOL" --socket "unix://$CDH_RUN/grpc.sock" --timeout 300 "$@" 2>"$CDH_RUN/last.err" >/dev/null
  local rc=$?
  [ $rc -ne 0 ] && note "cdh-tool $*: $(cat "$CDH_RUN/last.err")"
  return $rc
}
# mount_vol MOUNT_POINT KEY=VALUE...: SecureMount of a block-device volume.
mount_vol() {
  local mp=$1
  shift
  local args=() kv
  for kv in "$@"; do args+=(--option "$kv"); done
  tool secure-mount --volume-type block-device --mount-point "$mp" --option encryptionType=luks2 "${args[@]}"
}
unmount_vol() { tool unmount --mount-point "$1"; }
# The status code of the last failed cdh-tool call (e.g. INVALID_ARGUMENT).
last_code() { sed -n 's/.* failed: \([A-Z_]*\): .*/\1/p' "$CDH_RUN/last.err" | head -1; }

sha_of() { sha256sum | cut -d' ' -f1; }
# device_sha DEV BYTES: sha256 of the first BYTES bytes of DEV.
device_sha() { head -c "$2" "$1" | sha_of; }
