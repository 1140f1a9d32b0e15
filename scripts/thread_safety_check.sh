#!/usr/bin/env bash
# Compiles the libraries and binaries (not the tests) with clang and -Wthread-safety as an
# error, so every ABSL_GUARDED_BY and lock annotation is checked by the compiler. No
# optimisation and no debug info: only the analysis matters here. Run by scripts/test.sh.
# Usage: bash scripts/thread_safety_check.sh   (build dir: ./build-clang, override with CLANG_BUILD_DIR=...)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${CLANG_BUILD_DIR:-build-clang}
CC=clang CXX=clang++ cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=None \
  -DCDH_BUILD_TESTS=OFF -DCDH_BUILD_BENCHMARKS=OFF \
  -DCMAKE_CXX_FLAGS="-O0 -Wthread-safety -Werror=thread-safety" >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)"
echo "thread-safety: clang -Wthread-safety found nothing"
