#!/usr/bin/env bash
# The main job, end to end, on an embedded default (no outside services):
#   a dataset encrypted with `openssl enc`, its key held by the resource provider, a sealed
#   pointer made with the `secret` CLI, unsealed by the running daemon through its API into a
#   secret-volume directory, and the dataset decrypted with the unsealed key
#   (../shared/scenario.md). The key lives in a Key Broker Service: `kbs-dev`, a development KBS
#   speaking Trustee's protocol, and the daemon gets it through a real attestation handshake
#   (cc_kbc, with the `sample` attester standing in for the TEE this machine does not have).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD_DIR=${BUILD_DIR:-build}

echo "== 1. dependencies and build"
bash scripts/install-deps.sh
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
echo "   building the daemon, the CLIs and kbs-dev (the first build on a fresh machine takes several minutes)"
cmake --build "$BUILD_DIR" -j "$(nproc)" --target confidential-data-hub secret cdh-tool kbs-dev >/dev/null
case "$BUILD_DIR" in /*) BUILD_ABS=$BUILD_DIR ;; *) BUILD_ABS=$ROOT/$BUILD_DIR ;; esac
DAEMON_BIN=$BUILD_ABS/daemon
TOOLS_BIN=$BUILD_ABS/tools

WORK=$(mktemp -d /tmp/cdh-demo.XXXXXX)
DAEMON_PID=""
KBS_PID=""
cleanup() {
  if [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID" || true; fi
  if [ -n "$KBS_PID" ] && kill -0 "$KBS_PID" 2>/dev/null; then kill -TERM "$KBS_PID"; wait "$KBS_PID" || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
cd "$WORK"

echo "== 2. the data owner: a dataset key, an encrypted dataset, a signing key"
openssl rand -hex 32 | tr -d '\n' > dataset_key
python3 - > transactions.csv <<'PY'
import random
random.seed(7)
print("id,card,amount,merchant,country")
for i in range(200000):
    print(f"{i},{random.randrange(4000_0000_0000_0000, 4999_9999_9999_9999)},{random.uniform(1, 5000):.2f},m{random.randrange(1000)},{random.choice(['DE','FR','US','JP','BR'])}")
PY
openssl enc -aes-256-cbc -pbkdf2 -salt -in transactions.csv -out transactions.csv.enc -pass file:dataset_key
echo "   transactions.csv.enc: $(stat -c %s transactions.csv.enc) bytes ($(head -c 8 transactions.csv.enc))"
"$TOOLS_BIN/secret" keygen --kid demo-signer --output-dir . >/dev/null

echo "== 3. the broker side: a Key Broker Service holds the dataset key and the public signing key"
# kbs-dev: development only (it trusts sample evidence); admin auth off, bound to 127.0.0.1.
"$BUILD_ABS/kbs-dev/kbs-dev" --resource-dir "$WORK/kbs" --port-file "$WORK/kbs.port" \
  --insecure-admin > kbs.log 2>&1 &
KBS_PID=$!
for _ in $(seq 200); do [ -s "$WORK/kbs.port" ] && break; sleep 0.05; done
KBS_URL="http://127.0.0.1:$(cat "$WORK/kbs.port")"
echo "   kbs-dev listening on $KBS_URL"
# Uploads as Trustee's `kbs-client config set-resource` does: raw bytes to the admin endpoint.
curl -fsS --data-binary @dataset_key -H 'Content-Type: application/octet-stream' \
  "$KBS_URL/kbs/v0/resource/default/fraud-dataset/dataset_key"
curl -fsS --data-binary @demo-signer-public.json -H 'Content-Type: application/octet-stream' \
  "$KBS_URL/kbs/v0/resource/default/signing-key/demo-signer"
echo "   uploaded default/fraud-dataset/dataset_key and default/signing-key/demo-signer"
rm dataset_key transactions.csv   # only the broker has the key now

echo "== 4. the developer: seal a pointer to the key (it holds no secret)"
POINTER=$("$TOOLS_BIN/secret" seal --signing-kid kbs:///default/signing-key/demo-signer \
  --signing-jwk-path demo-signer-private.json \
  vault --resource-uri kbs:///default/fraud-dataset/dataset_key --provider kbs 2>/dev/null)
echo "   ${POINTER:0:72}..."
mkdir -p secret-volume
printf '%s\n' "$POINTER" > secret-volume/dataset_key    # as `oc create secret` would mount it

echo "== 5. inside the confidential VM: the data hub starts with cc_kbc (attested KBS access)"
cat > cdh.toml <<TOML
socket = "unix://$WORK/run/cdh.sock"
grpc_socket = "unix://$WORK/run/cdh-grpc.sock"
[kbc]
name = "cc_kbc"
url = "$KBS_URL"
[attestation]
tee = "sample"    # no TEE on this machine: sample evidence, asked for explicitly (never a fallback)
[paths]
base_dir = "$WORK/cdh"
TOML
"$DAEMON_BIN/confidential-data-hub" -c cdh.toml 2> daemon.log &
DAEMON_PID=$!

echo "== 6. the kata agent unseals the secret volume through the data hub (ttrpc, as the agent speaks it)"
"$TOOLS_BIN/cdh-tool" --ttrpc --socket "unix://$WORK/run/cdh.sock" --timeout 20 unseal-dir secret-volume
echo "   secret-volume/dataset_key -> $(readlink secret-volume/dataset_key): $(stat -L -c %s secret-volume/dataset_key) bytes of key (not printed)"
STATS=$(curl -fsS "$KBS_URL/kbs-dev/v0/stats")
echo "   KBS: $(echo "$STATS" | python3 -c 'import json,sys; s=json.load(sys.stdin); print("%d attestation handshake(s); %d encrypted resource responses (the signing key and the dataset key)" % (s["attest"], s["resource_ok"]))')"

echo "== 7. the application decrypts its dataset with the key from DECRYPTION_KEY_PATH"
DECRYPTION_KEY_PATH=$WORK/secret-volume/dataset_key
openssl enc -d -aes-256-cbc -pbkdf2 -in transactions.csv.enc -out transactions.csv -pass "file:$DECRYPTION_KEY_PATH"
ROWS=$(($(wc -l < transactions.csv) - 1))
echo "   decrypted transactions.csv: $ROWS transactions"
head -4 transactions.csv | sed 's/^/   | /'

echo "== 8. a tampered pointer fails loudly: its payload is edited to name another resource"
POINTER="$POINTER" python3 - > tampered <<'PY'
import base64, os
head, payload, sig = os.environ["POINTER"].split(".")[1:]
body = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).replace(b"dataset_key", b"other_key__")
print("sealed." + head + "." + base64.urlsafe_b64encode(body).decode().rstrip("=") + "." + sig, end="")
PY
"$TOOLS_BIN/cdh-tool" --socket "unix://$WORK/run/cdh-grpc.sock" unseal -f tampered -o /dev/null || true

kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID"; DAEMON_PID=""
kill -TERM "$KBS_PID"; wait "$KBS_PID" || true; KBS_PID=""
echo "== daemon log"
sed 's/^/   /' daemon.log
echo "== kbs-dev log"
sed 's/^/   /' kbs.log
if [ "$ROWS" -eq 200000 ]; then echo "OK: the sealed pointer unsealed through the data hub and the dataset decrypted"; else exit 1; fi
