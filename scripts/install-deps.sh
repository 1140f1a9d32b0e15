#!/usr/bin/env bash
# Installs every Debian 12 package the build, the tests and the demo need.
# Idempotent: apt-get skips what is already installed. Needs root (or sudo).
# The toolchain and libraries of the build, plus CLI11/spdlog (our CLI and logging),
# libcryptsetup/fuse3 (SecureMount), the Go ttrpc packages (interop tests), clang with its
# sanitizer runtimes, lld and llvm-symbolizer (scripts/sanitize.sh, which also runs the
# -Wthread-safety check; libclang-rt-14-dev also brings libFuzzer for scripts/fuzz.sh and
# fuzzer/FuzzedDataProvider.h, which the fuzz targets' replay build (fuzz/) needs under gcc too),
# clang-format (scripts/format.sh), and for PullImage libarchive/zstd/zlib plus a real registry and
# image tools for the tests (docker-registry, skopeo, umoci, htpasswd from apache2-utils), GPGME +
# GnuPG (signedBy image signatures) and libyaml (registries.d sigstore configuration).
# NO_RECOMMENDS: the guest-kernel tests (tests/guest): qemu, Debian's kernel and a static busybox
# for the initramfs, installed without recommends (qemu's pull in a desktop's worth).
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
  python3 python3-cryptography curl gnuplot-nox dmsetup iproute2
  docker-registry skopeo umoci apache2-utils libarchive-dev libzstd-dev zlib1g-dev
  libgpgme-dev gnupg libyaml-dev
  clang clang-format libclang-rt-14-dev lld llvm
)
NO_RECOMMENDS=(qemu-system-x86 linux-image-amd64 busybox-static)
missing=() missing_nr=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
for p in "${NO_RECOMMENDS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing_nr+=("$p")
done
if [ "${#missing[@]}" -eq 0 ] && [ "${#missing_nr[@]}" -eq 0 ]; then
  echo "install-deps: all $((${#PACKAGES[@]} + ${#NO_RECOMMENDS[@]})) packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]} ${missing_nr[*]}"
$SUDO apt-get update -qq
if [ "${#missing[@]}" -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if [ "${#missing_nr[@]}" -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing_nr[@]}" >/dev/null
fi
echo "install-deps: done"
