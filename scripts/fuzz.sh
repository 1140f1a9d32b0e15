#!/usr/bin/env bash
# Builds the libFuzzer configuration (clang, ASan+UBSan, -DCDH_FUZZ=ON, in build-fuzz/) and runs
# every fuzz target of fuzz/ for a fixed time, each from its checked-in corpus and regression
# inputs, into a temporary working corpus (the checked-in corpus is left alone unless
# --update-corpus). Prints a table: target, executions, exec/s, coverage (cov: edges and ft:
# features from libFuzzer's last status line), corpus size, result. A crash, leak, timeout
# (an input running longer than --timeout seconds), out-of-memory or sanitizer report saves the
# input under build-fuzz/fuzz-artifacts/<target>/ and makes the script exit 1. See fuzz/README.md.
#
# Usage: bash scripts/fuzz.sh [options] [seconds-per-target=60]
#   --only a,b        run only these targets (names as in fuzz/corpus/)
#   --update-corpus   add the inputs that found new coverage to fuzz/corpus/<target>/ (-merge=1)
#   --merge           minimise the checked-in corpora instead of fuzzing (-merge=1 into a fresh dir)
#   --timeout N       seconds one input may take (default 1)
#   --no-build        use build-fuzz as it is
# BUILD_DIR overrides build-fuzz.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_TARGET=60
ONLY=""
UPDATE=0
MERGE=0
TIMEOUT=1
BUILD=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --only) ONLY="$2"; shift 2 ;;
    --update-corpus) UPDATE=1; shift ;;
    --merge) MERGE=1; shift ;;
    --timeout) TIMEOUT="$2"; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    [0-9]*) SECONDS_PER_TARGET="$1"; shift ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

BUILD_DIR=${BUILD_DIR:-build-fuzz}
TARGETS=()
for dir in fuzz/corpus/*/; do
  name=$(basename "$dir")
  if [[ -z "$ONLY" || ",$ONLY," == *",$name,"* ]]; then TARGETS+=("$name"); fi
done
[[ ${#TARGETS[@]} -gt 0 ]] || { echo "no such target: $ONLY" >&2; exit 2; }

if [[ $BUILD -eq 1 ]]; then
  SAN="-fsanitize=address,undefined"
  CC=clang CXX=clang++ cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCDH_FUZZ=ON -DCDH_BUILD_TESTS=ON -DCDH_BUILD_BENCHMARKS=OFF \
    "-DCMAKE_CXX_FLAGS=$SAN -fno-sanitize-recover=undefined -fno-omit-frame-pointer" \
    "-DCMAKE_EXE_LINKER_FLAGS=$SAN" "-DCMAKE_SHARED_LINKER_FLAGS=$SAN" "-DCMAKE_MODULE_LINKER_FLAGS=$SAN" >/dev/null
  cmake --build "$BUILD_DIR" -j "$(nproc)" --target "${TARGETS[@]/%/_fuzzer}"
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ARTIFACTS="$BUILD_DIR/fuzz-artifacts"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cdh-fuzz-XXXXXX")
trap 'rm -rf "$WORK"' EXIT

if [[ $MERGE -eq 1 ]]; then
  for t in "${TARGETS[@]}"; do
    mkdir -p "$WORK/$t"
    "$BUILD_DIR/fuzz/${t}_fuzzer" -merge=1 -timeout="$TIMEOUT" "$WORK/$t" "fuzz/corpus/$t" >"$WORK/$t.log" 2>&1 ||
      { tail -20 "$WORK/$t.log"; exit 1; }
    rm -f fuzz/corpus/"$t"/*
    cp "$WORK/$t"/* "fuzz/corpus/$t/" 2>/dev/null || true
    echo "$t: $(ls "fuzz/corpus/$t" | wc -l) inputs after merge"
  done
  exit 0
fi

FAILED=0
ROWS=()
for t in "${TARGETS[@]}"; do
  mkdir -p "$WORK/$t" "$ARTIFACTS/$t" "fuzz/regressions/$t"
  log="$ARTIFACTS/$t.log"
  status=ok
  "$BUILD_DIR/fuzz/${t}_fuzzer" -max_total_time="$SECONDS_PER_TARGET" -timeout="$TIMEOUT" -rss_limit_mb=4096 \
    -print_final_stats=1 -artifact_prefix="$ARTIFACTS/$t/" \
    "$WORK/$t" "fuzz/corpus/$t" "fuzz/regressions/$t" >"$log" 2>&1 || status=FAIL
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | grep -E 'cov: ' | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9A-Za-z]*\).*/\1/p' <<<"$last")
  found=$(ls "$ARTIFACTS/$t" | grep -E '^(crash|leak|timeout|oom|slow-unit)-' || true)
  if [[ "$status" == FAIL || -n "$found" ]]; then
    status="FAIL ($(echo $found | tr ' ' ','))"
    FAILED=1
    echo "== $t: $status; log $log" >&2
    grep -E 'ERROR|SUMMARY|FUZZ_CHECK|runtime error|Test unit written' "$log" | head -5 >&2 || true
  fi
  if [[ $UPDATE -eq 1 ]]; then
    "$BUILD_DIR/fuzz/${t}_fuzzer" -merge=1 -timeout="$TIMEOUT" "fuzz/corpus/$t" "$WORK/$t" >>"$log" 2>&1 || true
  fi
  ROWS+=("$(printf '| %-16s | %12s | %8s | %6s | %7s | %-12s | %s |' "$t" "${execs:--}" "${rate:--}" "${cov:--}" \
    "${ft:--}" "${corp:--}" "$status")")
  echo "${ROWS[-1]}"
done

echo
echo "fuzz run of $(date -u +%Y-%m-%d), ${SECONDS_PER_TARGET} s per target, timeout ${TIMEOUT} s, ASan+UBSan"
printf '| %-16s | %12s | %8s | %6s | %7s | %-12s | %s |\n' target executions exec/s cov ft corpus result
printf '|%s|%s|%s|%s|%s|%s|%s|\n' "------------------" "--------------" "----------" "--------" "---------" "--------------" "--------"
printf '%s\n' "${ROWS[@]}"
if [[ $FAILED -ne 0 ]]; then
  echo "findings saved under $ARTIFACTS/<target>/; after the fix copy each into fuzz/regressions/<target>/" >&2
fi
exit $FAILED
