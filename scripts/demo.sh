#!/usr/bin/env bash
# The main job, end to end, on an embedded default (no outside services):
#   a dataset encrypted with `openssl enc`, its key held by the resource provider, a sealed
#   pointer made with the `secret` CLI, unsealed by the running daemon through its API into a
#   secret-volume directory, and the dataset decrypted with the unsealed key
#   (../shared/scenario.md, with offline_fs_kbc standing in for the broker).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD_DIR=${BUILD_DIR:-build}

echo "== 1. dependencies and build"
bash scripts/install-deps.sh
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)" --target confidential-data-hub secret cdh-tool >/dev/null
BIN=$ROOT/$BUILD_DIR/cdh

WORK=$(mktemp -d /tmp/cdh-demo.XXXXXX)
DAEMON_PID=""
cleanup() {
  if [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID" || true; fi
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
"$BIN/secret" keygen --kid demo-signer --output-dir . >/dev/null

echo "== 3. the broker side (offline_fs_kbc here): holds the dataset key and the public signing key"
python3 - <<'PY'
import base64, json
res = {
  "default/fraud-dataset/dataset_key": base64.b64encode(open("dataset_key", "rb").read()).decode(),
  "default/signing-key/demo-signer": base64.b64encode(open("demo-signer-public.json", "rb").read()).decode(),
}
json.dump(res, open("resources.json", "w"))
PY
rm dataset_key transactions.csv   # only the broker has the key now

echo "== 4. the developer: seal a pointer to the key (it holds no secret)"
POINTER=$("$BIN/secret" seal --signing-kid kbs:///default/signing-key/demo-signer \
  --signing-jwk-path demo-signer-private.json \
  vault --resource-uri kbs:///default/fraud-dataset/dataset_key --provider kbs 2>/dev/null)
echo "   ${POINTER:0:72}..."
mkdir -p secret-volume
printf '%s\n' "$POINTER" > secret-volume/dataset_key    # as `oc create secret` would mount it

echo "== 5. inside the confidential VM: the data hub starts on the embedded default config"
cat > cdh.toml <<TOML
socket = "unix://$WORK/run/cdh.sock"
grpc_socket = "unix://$WORK/run/cdh-grpc.sock"
[kbc]
name = "offline_fs_kbc"
[offline_fs_kbc]
resource_files = ["$WORK/resources.json"]
[paths]
base_dir = "$WORK/cdh"
TOML
"$BIN/confidential-data-hub" -c cdh.toml 2> daemon.log &
DAEMON_PID=$!

echo "== 6. the agent unseals the secret volume through the data hub's API"
"$BIN/cdh-tool" --socket "unix://$WORK/run/cdh-grpc.sock" --timeout 20 \
  unseal -f secret-volume/dataset_key -o secret-volume/dataset_key.unsealed
echo "   secret-volume/dataset_key now holds $(stat -c %s secret-volume/dataset_key.unsealed) bytes of key (not printed)"

echo "== 7. the application decrypts its dataset with the key from DECRYPTION_KEY_PATH"
DECRYPTION_KEY_PATH=$WORK/secret-volume/dataset_key.unsealed
openssl enc -d -aes-256-cbc -pbkdf2 -in transactions.csv.enc -out transactions.csv -pass "file:$DECRYPTION_KEY_PATH"
ROWS=$(($(wc -l < transactions.csv) - 1))
echo "   decrypted transactions.csv: $ROWS transactions"
head -4 transactions.csv | sed 's/^/   | /'

echo "== 8. a tampered pointer fails loudly"
printf '%s' "${POINTER%?}$( [ "${POINTER: -1}" = A ] && echo B || echo A )" > tampered
"$BIN/cdh-tool" --socket "unix://$WORK/run/cdh-grpc.sock" unseal -f tampered -o /dev/null || true

kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID"; DAEMON_PID=""
echo "== daemon log"
sed 's/^/   /' daemon.log
if [ "$ROWS" -eq 200000 ]; then echo "OK: the sealed pointer unsealed through the data hub and the dataset decrypted"; else exit 1; fi
