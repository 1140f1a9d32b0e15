#!/usr/bin/env bash
# The test suite under clang's sanitizers (run by scripts/test.sh after the gcc build and ctest):
#   asan  ASan+UBSan: the whole tree with its tests and fuzz targets (build-asan), also compiled
#         with -Wthread-safety -Werror=thread-safety, so one clang build both checks every lock
#         annotation and runs `ctest -LE guest` (the qemu guest tests stay with the gcc run).
#   tsan  TSan: only the tests of the concurrent parts (build-tsan): the ttrpc server and client,
#         the KBS client's token single-flight and cancellation, common/ (cancellation, the
#         timed turn) and the FUSE data path.
# Every sanitized process, the test binaries and the daemons, brokers and tools they start,
# writes its reports to one directory per run (log_path); the run fails when ctest fails or
# when that directory is not empty, so a report in a child process is never lost.
# Suppressions (scripts/sanitizers/*.supp) cover only Debian's libraries, never our code.
# Usage: bash scripts/sanitize.sh [--build-only] [asan] [tsan]   (default: both; JOBS=N overrides nproc)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
JOBS=${JOBS:-$(nproc)}
SUPP=$ROOT/scripts/sanitizers
BUILD_ONLY=0
if [ "${1:-}" = "--build-only" ]; then
  BUILD_ONLY=1
  shift
fi
RUNS=("$@")
[ "${#RUNS[@]}" -gt 0 ] || RUNS=(asan tsan)

# The tests of the concurrent parts, by binary (each test carries its binary's name as a label).
TSAN_TESTS=(ttrpc_test kbs_client_test kbs_dev_test common_test fuse_block_image_test block_device_driver_test)

phase_start=0
phase() { phase_start=$SECONDS; echo "sanitize: $1"; }
phase_done() { echo "sanitize: $1 took $((SECONDS - phase_start)) s"; }

# Configures `dir` with clang, lld, -O1 and line tables, for the sanitizers in $2; further
# cmake arguments follow $3, the extra compiler flags.
configure() {
  local dir=$1 sanitize=$2 extra_flags=$3
  shift 3
  CC=clang CXX=clang++ cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=None "$@" \
    -DCDH_BUILD_TESTS=ON -DCDH_BUILD_BENCHMARKS=OFF -DCDH_SANITIZE="$sanitize" \
    -DCMAKE_CXX_FLAGS="-O1 -gline-tables-only $extra_flags" \
    -DCMAKE_EXE_LINKER_FLAGS=-fuse-ld=lld -DCMAKE_SHARED_LINKER_FLAGS=-fuse-ld=lld >/dev/null
}

# Fails (after printing them) when the run's report directory holds any report.
check_reports() {
  local reports=$1 name=$2
  if [ -n "$(ls -A "$reports")" ]; then
    for f in "$reports"/*; do
      echo "=== $f"
      head -c 20000 "$f"
    done
    echo "sanitize: $name: sanitizer reports above (from $(ls "$reports" | wc -l) process(es))"
    return 1
  fi
}

run_asan() {
  local dir=build-asan reports
  phase "ASan+UBSan build (with -Wthread-safety)"
  # The fuzz targets' corpus replays (fuzz/, built in every test build) run with the other tests
  # under ASan+UBSan. The libFuzzer binaries themselves (CDH_FUZZ) are left to scripts/fuzz.sh:
  # their coverage instrumentation of the whole tree would cost CI minutes it cannot spare.
  configure "$dir" address,undefined "-Wthread-safety -Werror=thread-safety"
  cmake --build "$dir" -j "$JOBS"
  phase_done "ASan+UBSan build"
  [ "$BUILD_ONLY" -eq 0 ] || return 0
  reports=$ROOT/$dir/sanitizer-reports
  rm -rf "$reports" && mkdir -p "$reports"
  phase "ASan+UBSan ctest"
  local status=0
  ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:check_initialization_order=1:log_path=$reports/asan:log_exe_name=1" \
  LSAN_OPTIONS="suppressions=$SUPP/lsan.supp:print_suppressions=0" \
  UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:abort_on_error=1:log_path=$reports/ubsan:log_exe_name=1" \
    ctest --test-dir "$dir" -LE 'guest|no_sanitizer' -j "$JOBS" --output-on-failure --timeout 900 || status=$?
  phase_done "ASan+UBSan ctest"
  check_reports "$reports" "ASan+UBSan" || status=1
  return $status
}

run_tsan() {
  local dir=build-tsan reports labels
  phase "TSan build (${TSAN_TESTS[*]})"
  configure "$dir" thread ""
  cmake --build "$dir" -j "$JOBS" --target "${TSAN_TESTS[@]}"
  phase_done "TSan build"
  [ "$BUILD_ONLY" -eq 0 ] || return 0
  reports=$ROOT/$dir/sanitizer-reports
  rm -rf "$reports" && mkdir -p "$reports"
  labels="^($(IFS='|'; echo "${TSAN_TESTS[*]}"))\$"
  phase "TSan ctest"
  local status=0
  TSAN_OPTIONS="halt_on_error=0:second_deadlock_stack=1:suppressions=$SUPP/tsan.supp:log_path=$reports/tsan:log_exe_name=1" \
    ctest --test-dir "$dir" -L "$labels" -LE no_sanitizer -j "$JOBS" --output-on-failure --timeout 900 || status=$?
  phase_done "TSan ctest"
  check_reports "$reports" "TSan" || status=1
  return $status
}

total_start=$SECONDS
failed=()
for run in "${RUNS[@]}"; do
  case $run in
    asan) run_asan || failed+=(asan) ;;
    tsan) run_tsan || failed+=(tsan) ;;
    *) echo "sanitize: unknown run '$run' (asan, tsan)"; exit 2 ;;
  esac
done
echo "sanitize: ${RUNS[*]} took $((SECONDS - total_start)) s in all"
if [ "${#failed[@]}" -gt 0 ]; then
  echo "sanitize: FAILED: ${failed[*]}"
  exit 1
fi
echo "sanitize: ${RUNS[*]} clean"
