#!/usr/bin/env bash
# Installs every Debian 12 package the build, the tests and the demo need.
# Idempotent: apt-get skips what is already installed. Needs root (or sudo).
# The toolchain and libraries of the build, plus CLI11/spdlog (our CLI and logging),
# libcryptsetup/fuse3 (SecureMount), the Go ttrpc packages (interop tests) and clang (the
# -Wthread-safety check, scripts/thread_safety_check.sh).
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libabsl-dev
  libssl-dev openssl libtss2-dev nlohmann-json3-dev libtomlplusplus-dev libcurl4-openssl-dev
  libcpp-httplib-dev libcli11-dev libspdlog-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  swtpm swtpm-tools tpm2-tools cryptsetup-bin libcryptsetup-dev fuse3 libfuse3-dev e2fsprogs
  golang-go golang-github-containerd-ttrpc-dev golang-github-gogo-protobuf-dev golang-google-protobuf-dev
  python3 python3-cryptography curl gnuplot-nox
  clang clang-format
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
echo "install-deps: done"
