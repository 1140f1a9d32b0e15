#!/usr/bin/env bash
# The lock annotations (ABSL_GUARDED_BY and friends) checked by clang's -Wthread-safety as an
# error. The check is part of the ASan+UBSan build of scripts/sanitize.sh (one clang build for
# both, in build-asan); this builds that tree without running its tests.
# Usage: bash scripts/thread_safety_check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/sanitize.sh --build-only asan
echo "thread-safety: clang -Wthread-safety found nothing"
