#!/bin/bash
# Launches attestation-agent, confidential-data-hub and api-server-rest exactly as the kata agent
# does (kata-containers src/agent/src/main.rs: builtin_coco_plan, launch_process,
# wait_for_path_to_exist): same paths under /usr/local/bin, same arguments, the init-data files
# under /run/confidential-containers/initdata, stale sockets deleted before each launch, a wait of at
# most agent.launch_process_timeout (6 s, polled every second) for each socket. All three names are
# our one binary. Then it calls every role (the data hub over ttrpc with cdh-tool, the attestation
# agent with Debian's Go ttrpc client, the REST front with curl) and checks that the broker (kbs-dev)
# saw exactly one attestation for all of it.
#
# Hermetic: runs in private mount and network namespaces (tmpfs over /run and /usr/local/bin,
# loopback only), so kata's absolute paths and 127.0.0.1:8006 are used as they are. Needs root;
# exits 77 (skipped) otherwise.
#
# usage: kata_launch_test.sh <daemon binary> <kbs-dev binary> <cdh-tool binary> <aainterop binary>
set -euo pipefail

if [ "${1:-}" != "--inside" ]; then
  if [ "$(id -u)" != 0 ] || ! unshare --mount --net true 2>/dev/null; then
    echo "SKIP: needs root (mount and network namespaces)"
    exit 77
  fi
  exec unshare --mount --net --fork --propagation private "$0" --inside "$@"
fi
shift
DAEMON=$(readlink -f "$1") KBS_DEV=$(readlink -f "$2") CDH_TOOL=$(readlink -f "$3") AAINTEROP=$(readlink -f "$4")
WORK=$(mktemp -d /tmp/kata-launch.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  echo "--- guest components log"; cat "$WORK/components.log" || true
  echo "--- kbs-dev log"; cat "$WORK/kbs-dev.log" || true
  exit 1
}

ip link set lo up
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /usr/local/bin
ln -s "$DAEMON" /usr/local/bin/confidential-data-hub
ln -s "$DAEMON" /usr/local/bin/attestation-agent
ln -s "$DAEMON" /usr/local/bin/api-server-rest

# The broker, with the resources the pod uses.
"$KBS_DEV" --resource-dir "$WORK/kbs" --port-file "$WORK/kbs.port" --insecure-admin >"$WORK/kbs-dev.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 200); do [ -s "$WORK/kbs.port" ] && break; sleep 0.05; done
[ -s "$WORK/kbs.port" ] || fail "kbs-dev did not start"
KBS="http://127.0.0.1:$(cat "$WORK/kbs.port")"
curl -sf -X POST --data-binary "dataset-key-bytes" "$KBS/kbs/v0/resource/default/key/1" >/dev/null
curl -sf -X POST --data-binary "second-key" "$KBS/kbs/v0/resource/default/key/2" >/dev/null

# What the kata agent writes before launching anything (initdata.rs): the init-data TOML and the
# aa.toml / cdh.toml it carries. The `sample` attester stands in for the TEE this machine lacks.
INIT=/run/confidential-containers/initdata
mkdir -p "$INIT"
cat >"$INIT/aa.toml" <<TOML
[token_configs.kbs]
url = "$KBS"
[attestation]
tee = "sample"
TOML
cat >"$INIT/cdh.toml" <<TOML
[kbc]
name = "cc_kbc"
url = "$KBS"
[attestation]
tee = "sample"
TOML
{
  printf 'version = "0.1.0"\nalgorithm = "sha256"\n[data]\n'
  printf '"aa.toml" = """\n%s\n"""\n' "$(cat "$INIT/aa.toml")"
  printf '"cdh.toml" = """\n%s\n"""\n' "$(cat "$INIT/cdh.toml")"
} >"$INIT/initdata.toml"

# Stale sockets from an earlier run: kata deletes them before each launch.
AA_SOCK=/run/confidential-containers/attestation-agent/attestation-agent.sock
CDH_SOCK=/run/confidential-containers/cdh.sock
mkdir -p "$(dirname "$AA_SOCK")"
python3 -c 'import socket,sys
for p in sys.argv[1:]:
    s = socket.socket(socket.AF_UNIX); s.bind(p); s.close()' "$AA_SOCK" "$CDH_SOCK"

# kata's launch_process: `-c <config>` only when the file exists; stale socket removed; spawn;
# wait_for_path_to_exist (sleep 1 s, then check, at most timeout+1 checks).
launch() {
  local path=$1 config=$2 socket=$3; shift 3
  local args=("$@")
  [ -e "$path" ] || fail "$path does not exist"
  if [ -n "$config" ] && [ -e "$config" ]; then args+=(-c "$config"); fi
  if [ -n "$socket" ] && [ -e "$socket" ]; then rm -f "$socket"; fi
  OCICRYPT_KEYPROVIDER_CONFIG=${LAUNCH_OCICRYPT:-} "$path" "${args[@]}" >>"$WORK/components.log" 2>&1 &
  PIDS+=($!)
  LAST_PID=$!
  [ -n "$socket" ] || return 0
  for attempt in $(seq 0 6); do
    sleep 1
    [ -e "$socket" ] && return 0
  done
  fail "wait for $socket to exist timeout"
}
launch /usr/local/bin/attestation-agent "$INIT/aa.toml" "$AA_SOCK" \
  --attestation_sock "unix://$AA_SOCK" --initdata-toml "$INIT/initdata.toml"
AA_PID=$LAST_PID
LAUNCH_OCICRYPT=/etc/ocicrypt_config.json launch /usr/local/bin/confidential-data-hub "$INIT/cdh.toml" "$CDH_SOCK"
CDH_PID=$LAST_PID
launch /usr/local/bin/api-server-rest "" "" --features all
REST_PID=$LAST_PID
for _ in $(seq 100); do curl -sf http://127.0.0.1:8006/info >/dev/null && break; sleep 0.05; done

[ "$(stat -c %a "$AA_SOCK")" = 600 ] || fail "the attestation agent's socket is not 0600"
[ "$(stat -c %a "$CDH_SOCK")" = 600 ] || fail "the data hub's socket is not 0600"

# The data hub, as the kata agent calls it.
out=$("$CDH_TOOL" --ttrpc --socket "$CDH_SOCK" get-resource kbs:///default/key/1) || fail "cdh-tool get-resource"
case "$out" in *dataset-key-bytes*) ;; *) fail "cdh-tool got: $out" ;; esac
# The attestation agent: every method; its token is accepted by the broker. The event log is off
# by default (upstream's enable_eventlog = false): NOT_ENABLED (2).
"$AAINTEROP" -sock "$AA_SOCK" -tee sample -kbs-url "$KBS" -measurement 2 || fail "aainterop"
# The REST front.
[ "$(curl -sf http://127.0.0.1:8006/cdh/resource/default/key/2)" = second-key ] || fail "REST resource"
curl -sf 'http://127.0.0.1:8006/aa/token?token_type=kbs' | grep -q '"token":"' || fail "REST token"
curl -sf 'http://127.0.0.1:8006/aa/evidence?runtime_data=abc' | grep -q '"report_data":"YWJj"' || fail "REST evidence"
code=$(curl -s -o /dev/null -w '%{http_code}' 'http://127.0.0.1:8006/aa/token')
[ "$code" = 400 ] || fail "REST token without token_type: $code"
aael=$(curl -sf -X POST -d '{"domain":"example.org","operation":"Start","content":"x"}' http://127.0.0.1:8006/aa/aael)
case "$aael" in *'"success":"false"'*'does not enable eventlog'*) ;; *) fail "REST aael: $aael" ;; esac
# Concurrent callers through REST and ttrpc at once (the subshell waits for its own children).
(
  for i in $(seq 8); do
    curl -sf http://127.0.0.1:8006/cdh/resource/default/key/1 >"$WORK/c$i" &
    "$CDH_TOOL" --ttrpc --socket "$CDH_SOCK" get-resource kbs:///default/key/2 >"$WORK/t$i" &
  done
  wait
)
for i in $(seq 8); do
  grep -q dataset-key-bytes "$WORK/c$i" || fail "concurrent REST caller $i"
  grep -q second-key "$WORK/t$i" || fail "concurrent ttrpc caller $i"
done

# One RCAR handshake for all three roles.
stats=$(curl -sf "$KBS/kbs-dev/v0/stats")
attest=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["attest"])' "$stats")
[ "$attest" = 1 ] || fail "kbs-dev saw $attest attestations, want 1 ($stats)"
grep -q 'role confidential-data-hub joined' "$WORK/components.log" || fail "the data hub did not join the daemon"
grep -q 'role api-server-rest joined' "$WORK/components.log" || fail "the REST front did not join the daemon"

# The daemon (the first entry point) stops; the other two exit with it.
kill -TERM "$AA_PID"
for pid in "$AA_PID" "$CDH_PID" "$REST_PID"; do
  for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  ! kill -0 "$pid" 2>/dev/null || fail "process $pid still running after the daemon stopped"
done
[ ! -e "$AA_SOCK" ] && [ ! -e "$CDH_SOCK" ] || fail "sockets left behind"
echo "PASS: kata launch order, one daemon, one attestation"
