#!/usr/bin/env bash
# Installs the dependencies, builds everything, runs the whole test suite with ctest, then
# compiles the tree with clang's -Wthread-safety (scripts/thread_safety_check.sh).
# Usage: bash scripts/test.sh            (build dir: ./build, override with BUILD_DIR=...)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
bash scripts/install-deps.sh
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCDH_BUILD_TESTS=ON >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)"
ctest --test-dir "$BUILD_DIR" --output-on-failure --timeout 600
# The lock annotations, checked by clang (a compile of the libraries and binaries only).
bash scripts/thread_safety_check.sh
