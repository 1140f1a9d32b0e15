#!/usr/bin/env bash
# The main job, end to end, on an embedded default (no outside services):
#   a dataset encrypted with `openssl enc`, its key held by the resource provider, a sealed
#   pointer made with the `secret` CLI, unsealed by the running daemon through its API into a
#   secret-volume directory, and the dataset decrypted with the unsealed key
#   (the README's main job). The key lives in a Key Broker Service: `kbs-dev`, a development KBS
#   speaking Trustee's protocol, and the daemon gets it through a real attestation handshake
#   (cc_kbc, with the `sample` attester standing in for the TEE this machine does not have).
#   Before the application runs, its image — a tiny fraud-detection image in a local registry,
#   signed in cosign's format — is pulled by the data hub (PullImage over ttrpc, as the kata agent
#   asks for it) after the signature policy named by the pod's init data has been fetched from the
#   broker and the signature verified; an unsigned image is refused with the policy's reason.
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
REGISTRY_PID=""
cleanup() {
  if [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID" || true; fi
  if [ -n "$KBS_PID" ] && kill -0 "$KBS_PID" 2>/dev/null; then kill -TERM "$KBS_PID"; wait "$KBS_PID" || true; fi
  if [ -n "$REGISTRY_PID" ] && kill -0 "$REGISTRY_PID" 2>/dev/null; then kill -TERM "$REGISTRY_PID"; wait "$REGISTRY_PID" || true; fi
  if mountpoint -q "$WORK/bundle/rootfs" 2>/dev/null; then umount -l "$WORK/bundle/rootfs" || true; fi
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

echo "== 3. the image publisher: a tiny fraud-detection image in a local registry, signed in cosign's format"
REG_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
REGISTRY=127.0.0.1:$REG_PORT
cat > registry.yml <<YML
version: 0.1
storage:
  filesystem:
    rootdirectory: $WORK/registry
http:
  addr: $REGISTRY
YML
/usr/bin/docker-registry serve registry.yml > registry.log 2>&1 &
REGISTRY_PID=$!
for _ in $(seq 200); do curl -fsS "http://$REGISTRY/v2/" >/dev/null 2>&1 && break; sleep 0.05; done
mkdir -p app-src/app
cat > app-src/app/score.sh <<'SH'
#!/bin/sh
# fraud-detection: scores the decrypted transactions (CSV: id,card,amount,merchant,country).
set -eu
awk -F, 'NR > 1 { n++; if ($3 + 0 > 4990) flagged++ }
         END { printf "scored %d transactions, %d flagged for review (amount > 4990)\n", n, flagged }' "$1"
SH
chmod 0755 app-src/app/score.sh
ROOTLESS=""; [ "$(id -u)" -eq 0 ] || ROOTLESS="--rootless"
umoci init --layout oci && umoci new --image oci:fraud-detection
umoci unpack $ROOTLESS --image oci:fraud-detection bundle-src >/dev/null
cp -a app-src/. bundle-src/rootfs/ && umoci repack $ROOTLESS --image oci:fraud-detection bundle-src && rm -rf bundle-src
umoci config $ROOTLESS --image oci:fraud-detection --config.cmd /app/score.sh --config.workingdir /app
SKOPEO="env _CONTAINERS_ROOTLESS_UID=1 XDG_DATA_HOME=$WORK/xdg skopeo"   # its own blob-info cache
IMAGE=$REGISTRY/signed/fraud-detection:latest
UNSIGNED_IMAGE=$REGISTRY/signed/fraud-detection-unsigned:latest
$SKOPEO copy -q --dest-tls-verify=false "oci:$WORK/oci:fraud-detection" "docker://$IMAGE"
$SKOPEO copy -q --dest-tls-verify=false "oci:$WORK/oci:fraud-detection" "docker://$UNSIGNED_IMAGE"
# Debian ships no cosign and its skopeo refuses sigstore signing: the project's own signer writes
# the signature exactly as cosign lays it out (tag sha256-<hex>.sig in the same repository).
/usr/bin/python3 "$ROOT/tests/image/cosign_sign.py" keygen cosign
SIGNED_DIGEST=$(/usr/bin/python3 "$ROOT/tests/image/cosign_sign.py" sign "http://$REGISTRY" signed/fraud-detection latest cosign.key)
echo "   $IMAGE ($SIGNED_DIGEST), signature at tag ${SIGNED_DIGEST/:/-}.sig"
echo "   $UNSIGNED_IMAGE: the same image, not signed"
cat > image-policy.json <<JSON
{
  "default": [{"type": "reject"}],
  "transports": {
    "docker": {
      "$REGISTRY/signed": [
        {
          "type": "sigstoreSigned",
          "keyPath": "kbs:///default/conf-devhub-signature/pub-key",
          "signedIdentity": {"type": "matchRepository"}
        }
      ]
    }
  }
}
JSON

echo "== 4. the broker side: a Key Broker Service holds the dataset key, the public signing key, the image policy and the cosign key"
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
curl -fsS --data-binary @image-policy.json -H 'Content-Type: application/octet-stream' \
  "$KBS_URL/kbs/v0/resource/default/trustee-image-policy/policy"
curl -fsS --data-binary @cosign.pub -H 'Content-Type: application/octet-stream' \
  "$KBS_URL/kbs/v0/resource/default/conf-devhub-signature/pub-key"
echo "   uploaded default/fraud-dataset/dataset_key, default/signing-key/demo-signer,"
echo "   default/trustee-image-policy/policy ($(stat -c %s image-policy.json) bytes) and default/conf-devhub-signature/pub-key"
rm dataset_key transactions.csv   # only the broker has the key now

echo "== 5. the developer: seal a pointer to the key (it holds no secret)"
POINTER=$("$TOOLS_BIN/secret" seal --signing-kid kbs:///default/signing-key/demo-signer \
  --signing-jwk-path demo-signer-private.json \
  vault --resource-uri kbs:///default/fraud-dataset/dataset_key --provider kbs 2>/dev/null)
echo "   ${POINTER:0:72}..."
mkdir -p secret-volume
printf '%s\n' "$POINTER" > secret-volume/dataset_key    # as `oc create secret` would mount it

echo "== 6. inside the confidential VM: the data hub starts from the pod's init data (cc_kbc, attested KBS access)"
# The init data the host measured into the TEE; the kata agent writes its data."cdh.toml" out and
# starts the data hub on it. [image] names the image policy held by the broker.
cat > initdata.toml <<TOML
version = "0.1.0"
algorithm = "sha384"
[data]
"cdh.toml" = '''
socket = "unix://$WORK/run/cdh.sock"
grpc_socket = "unix://$WORK/run/cdh-grpc.sock"
[kbc]
name = "cc_kbc"
url = "$KBS_URL"
[attestation]
tee = "sample"    # no TEE on this machine: sample evidence, asked for explicitly (never a fallback)
init_data_path = "$WORK/initdata.toml"
[paths]
base_dir = "$WORK/cdh"
[image]
image_security_policy_uri = "kbs:///default/trustee-image-policy/policy"
work_dir = "$WORK/image"
[[image.registry_config.registry]]
location = "$REGISTRY"
insecure = true      # the local registry speaks plain HTTP
'''
TOML
python3 -c 'import sys, tomllib; sys.stdout.write(tomllib.load(open("initdata.toml", "rb"))["data"]["cdh.toml"])' > cdh.toml
"$DAEMON_BIN/confidential-data-hub" -c cdh.toml 2> daemon.log &
DAEMON_PID=$!

echo "== 7. the kata agent pulls the container image through the data hub (PullImage over ttrpc)"
mkdir -p bundle
for _ in $(seq 400); do [ -S "$WORK/run/cdh.sock" ] && break; sleep 0.05; done
DIGEST=$("$TOOLS_BIN/cdh-tool" --ttrpc --socket "unix://$WORK/run/cdh.sock" --timeout 1200 pull-image "$IMAGE" "$WORK/bundle")
echo "   manifest digest: $DIGEST"
echo "   rootfs: $(cd bundle/rootfs && find . -type f | sort | tr '\n' ' ')"
echo "   KBS log: $(grep -c 'GET /kbs/v0/resource/default/trustee-image-policy/policy 200' kbs.log || true) GET of the image policy, $(grep -c 'GET /kbs/v0/resource/default/conf-devhub-signature/pub-key 200' kbs.log || true) GET of the cosign key, after one attestation"

echo "== 8. the kata agent unseals the secret volume through the data hub (ttrpc, as the agent speaks it)"
"$TOOLS_BIN/cdh-tool" --ttrpc --socket "unix://$WORK/run/cdh.sock" --timeout 20 unseal-dir secret-volume
echo "   secret-volume/dataset_key -> $(readlink secret-volume/dataset_key): $(stat -L -c %s secret-volume/dataset_key) bytes of key (not printed)"
STATS=$(curl -fsS "$KBS_URL/kbs-dev/v0/stats")
echo "   KBS: $(echo "$STATS" | python3 -c 'import json,sys; s=json.load(sys.stdin); print("%d attestation handshake(s) in all; %d encrypted resource responses (image policy, cosign key, signing key, dataset key)" % (s["attest"], s["resource_ok"]))')"

echo "== 9. the application decrypts its dataset with the key from DECRYPTION_KEY_PATH and scores it"
DECRYPTION_KEY_PATH=$WORK/secret-volume/dataset_key
openssl enc -d -aes-256-cbc -pbkdf2 -in transactions.csv.enc -out transactions.csv -pass "file:$DECRYPTION_KEY_PATH"
ROWS=$(($(wc -l < transactions.csv) - 1))
echo "   decrypted transactions.csv: $ROWS transactions"
head -4 transactions.csv | sed 's/^/   | /'
SCORE=$(sh "$WORK/bundle/rootfs/app/score.sh" transactions.csv)   # the app's own script, from the pulled rootfs
echo "   bundle/rootfs/app/score.sh: $SCORE"

echo "== 10. a tampered pointer fails loudly: its payload is edited to name another resource"
POINTER="$POINTER" python3 - > tampered <<'PY'
import base64, os
head, payload, sig = os.environ["POINTER"].split(".")[1:]
body = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).replace(b"dataset_key", b"other_key__")
print("sealed." + head + "." + base64.urlsafe_b64encode(body).decode().rstrip("=") + "." + sig, end="")
PY
"$TOOLS_BIN/cdh-tool" --socket "unix://$WORK/run/cdh-grpc.sock" unseal -f tampered -o /dev/null || true


echo "== 11. an unsigned image is refused with the policy's reason (nothing is unpacked)"
mkdir -p bundle-unsigned
REFUSED=0
if ! "$TOOLS_BIN/cdh-tool" --ttrpc --socket "unix://$WORK/run/cdh.sock" --timeout 1200 \
    pull-image "$UNSIGNED_IMAGE" "$WORK/bundle-unsigned" 2> refused.txt; then
  REFUSED=1
fi
sed 's/^/   /' refused.txt
[ -z "$(ls -A bundle-unsigned/rootfs 2>/dev/null)" ] && echo "   bundle-unsigned/rootfs: empty"

umount "$WORK/bundle/rootfs"
kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID"; DAEMON_PID=""
kill -TERM "$KBS_PID"; wait "$KBS_PID" || true; KBS_PID=""
kill -TERM "$REGISTRY_PID"; wait "$REGISTRY_PID" || true; REGISTRY_PID=""
echo "== daemon log"
sed 's/^/   /' daemon.log
echo "== kbs-dev log"
sed 's/^/   /' kbs.log
if [ "$ROWS" -eq 200000 ] && [ "$REFUSED" -eq 1 ] && [ -n "$SCORE" ]; then
  echo "OK: the signed image was verified and pulled, the sealed pointer unsealed through the data hub, the dataset decrypted and scored by the image's script, and the unsigned image refused"
else
  exit 1
fi
