#!/usr/bin/env bash
# Builds vsgate twice and runs every test:
#   build/       RelWithDebInfo: all tests (labels unit, packet, e2e)
#   build-asan/  -DVSGATE_SANITIZE=ON (ASan + UBSan): unit and packet tests
#   build-tsan/  -DVSGATE_TSAN=ON (ThreadSanitizer): only worker_race_test, label tsan
#   build-fuzz/  -DVSGATE_FUZZ=ON (clang-14, libFuzzer + ASan/UBSan): tests/fuzz/run.sh runs
#                every harness for FUZZ_SECONDS (default 15) each
# Prints a summary and exits non-zero if any step failed. The e2e tests need root.
# Usage: tests/run_all.sh   (env: JOBS to limit build parallelism)
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1

JOBS=${JOBS:-$(nproc)}
export CTEST_PARALLEL_LEVEL=${CTEST_PARALLEL_LEVEL:-$JOBS}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

STEPS=()      # "name|status|detail"
FAILED_STEPS=0
TESTS_PASSED=0
TESTS_FAILED=0

banner() { printf '\n==================== %s ====================\n' "$*"; }

record() {  # record NAME RC [DETAIL]
  local status=ok
  if (($2 != 0)); then status="FAILED (exit $2)"; FAILED_STEPS=$((FAILED_STEPS + 1)); fi
  STEPS+=("$1|$status|${3:-}")
}

# run_ctest NAME ARGS...: runs ctest, tallies its "N tests failed out of M" line.
run_ctest() {
  local name=$1 log rc total failed detail
  shift
  log=$(mktemp)
  banner "$name: ctest $*"
  ctest "$@" --output-on-failure 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  # ctest's closing line: "NN% tests passed, F tests failed out of T"
  local re='s/.* tests passed, \([0-9]\+\) tests\{0,1\} failed out of \([0-9]\+\).*/\1 \2/p'
  read -r failed total < <(sed -n "$re" "$log" | tail -n 1)
  if [[ -n "${total:-}" ]]; then
    TESTS_PASSED=$((TESTS_PASSED + total - failed))
    TESTS_FAILED=$((TESTS_FAILED + failed))
    detail="$((total - failed))/$total tests passed"
  elif grep -q "No tests were found" "$log"; then
    detail="no tests found: a missing test is a failure"
    ((rc == 0)) && rc=1
  else
    detail="no ctest summary"
    ((rc == 0)) && rc=1
  fi
  rm -f "$log"
  record "$name" "$rc" "$detail"
}

build() {  # build NAME DIR CMAKE_ARGS...
  local name=$1 dir=$2 rc
  shift 2
  banner "$name: configure and build $dir"
  cmake -S "$ROOT" -B "$dir" -G Ninja "$@" && ninja -C "$dir" -j "$JOBS"
  rc=$?
  record "$name" "$rc"
  return "$rc"
}

banner "install dependencies"
"$ROOT/packaging/install-deps.sh"
record "install-deps" $?

if build "build" build -DCMAKE_BUILD_TYPE=RelWithDebInfo; then
  run_ctest "tests (build)" --test-dir build
else
  record "tests (build)" 1 "not run: build failed"
fi

if build "build-asan" build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVSGATE_SANITIZE=ON; then
  run_ctest "unit tests (build-asan)" --test-dir build-asan -L unit
  run_ctest "packet tests (build-asan)" --test-dir build-asan -L packet
else
  record "unit tests (build-asan)" 1 "not run: build failed"
  record "packet tests (build-asan)" 1 "not run: build failed"
fi

# ThreadSanitizer: only the two-thread worker harness is built (a minute or two) and run (15 s).
banner "build-tsan: configure and build worker_race_test"
if cmake -S "$ROOT" -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVSGATE_TSAN=ON &&
  ninja -C build-tsan -j "$JOBS" worker_race_test; then
  record "build-tsan" 0
  run_ctest "tsan tests (build-tsan)" --test-dir build-tsan -L tsan
else
  record "build-tsan" 1
  record "tsan tests (build-tsan)" 1 "not run: build failed"
fi

# libFuzzer harnesses (tests/fuzz/README.md): build (a few minutes on 2 cores) and 15 s each,
# about 6 minutes in all. run.sh exits 77 when clang-14 or libFuzzer is missing: a SKIP with the
# reason in the summary, never a silent pass.
banner "fuzz: tests/fuzz/run.sh ${FUZZ_SECONDS:-15}"
fuzz_log=$(mktemp)
JOBS=$JOBS "$ROOT/tests/fuzz/run.sh" "${FUZZ_SECONDS:-15}" 2>&1 | tee "$fuzz_log"
fuzz_rc=${PIPESTATUS[0]}
if ((fuzz_rc == 77)); then
  STEPS+=("fuzz (build-fuzz)|SKIPPED|$(sed -n 's/^fuzz: SKIP: //p' "$fuzz_log" | head -n 1)")
else
  record "fuzz (build-fuzz)" "$fuzz_rc" "$(grep -o 'all [0-9]* harnesses passed\|[0-9]* harness(es) failed\|build failed' "$fuzz_log" | head -n 1)"
fi
rm -f "$fuzz_log"

banner "summary"
for s in "${STEPS[@]}"; do
  IFS='|' read -r name status detail <<<"$s"
  printf '  %-28s %-18s %s\n' "$name" "$status" "$detail"
done
echo
((FAILED_STEPS > 0)) && echo "run_all: $FAILED_STEPS step(s) failed"
echo "run_all: $TESTS_PASSED passed, $TESTS_FAILED failed"
((FAILED_STEPS == 0))
