#!/usr/bin/env bash
# Installs the dependencies, builds everything, runs the whole test suite with ctest, then runs
# it again under clang's sanitizers (scripts/sanitize.sh: ASan+UBSan for the whole suite, built
# with -Wthread-safety as an error, and TSan for the concurrent parts). Each phase prints its time.
# Usage: bash scripts/test.sh            (build dir: ./build, override with BUILD_DIR=...)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
bash scripts/install-deps.sh
start=$SECONDS
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCDH_BUILD_TESTS=ON >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)"
echo "test: gcc build took $((SECONDS - start)) s"
start=$SECONDS
ctest --test-dir "$BUILD_DIR" --output-on-failure --timeout 600
echo "test: gcc ctest took $((SECONDS - start)) s"
bash scripts/sanitize.sh
