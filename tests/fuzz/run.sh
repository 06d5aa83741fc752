#!/usr/bin/env bash
# Builds the libFuzzer harnesses (clang-14, -DVSGATE_FUZZ=ON, in build-fuzz/) if needed and runs
# each for SECONDS (default 10), starting from its seed corpus in tests/fuzz/corpus/<name>/
# (which holds the regression inputs too: each is replayed before fuzzing). Fails when any
# harness crashes, trips a sanitizer or violates an invariant; the input is saved in
# build-fuzz/artifacts/<name>/. Prints executions, executions/s and new inputs per harness.
# Exits 77 (SKIP) with the reason when clang-14 or libFuzzer is not installed.
# Usage: tests/fuzz/run.sh [SECONDS] [HARNESS...]
#   env: BUILD_DIR (default build-fuzz), JOBS (build parallelism, default nproc)
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SECONDS_EACH=${1:-10}
shift || true
BUILD_DIR=${BUILD_DIR:-$ROOT/build-fuzz}
JOBS=${JOBS:-$(nproc)}
ALL=(conn_table tcp_state config proc_arp netlink snmp_snapshot vsgatectl_argv control_dispatch)
HARNESSES=("$@")
((${#HARNESSES[@]})) || HARNESSES=("${ALL[@]}")

skip() {
  echo "fuzz: SKIP: $*" >&2
  exit 77
}
command -v clang-14 >/dev/null && command -v clang++-14 >/dev/null ||
  skip "clang-14 is not installed (packaging/install-deps.sh installs clang-14 and libfuzzer-14-dev)"
RESOURCE_DIR=$(clang++-14 -print-resource-dir)
[[ -f "$RESOURCE_DIR/lib/linux/libclang_rt.fuzzer-x86_64.a" ]] ||
  skip "libFuzzer is not installed ($RESOURCE_DIR/lib/linux/libclang_rt.fuzzer-x86_64.a missing; packaging/install-deps.sh installs libfuzzer-14-dev)"

targets=()
for h in "${HARNESSES[@]}"; do
  [[ " ${ALL[*]} " == *" $h "* ]] || { echo "fuzz: unknown harness '$h' (${ALL[*]})" >&2; exit 2; }
  targets+=("${h}_fuzz")
done

if [[ ! -f "$BUILD_DIR/build.ninja" ]]; then
  CC=clang-14 CXX=clang++-14 cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVSGATE_FUZZ=ON -DVSGATE_BUILD_TESTS=OFF ||
    { echo "fuzz: configure failed" >&2; exit 1; }
fi
build_start=$(date +%s)
ninja -C "$BUILD_DIR" -j "$JOBS" "${targets[@]}" || { echo "fuzz: build failed" >&2; exit 1; }
echo "fuzz: build took $(($(date +%s) - build_start)) s"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=0
summary=()
for h in "${HARNESSES[@]}"; do
  seeds="$ROOT/tests/fuzz/corpus/$h"
  work="$BUILD_DIR/corpus/$h"      # what this machine found so far, kept between runs
  artifacts="$BUILD_DIR/artifacts/$h/"
  log="$BUILD_DIR/logs/$h.log"
  mkdir -p "$work" "$artifacts" "$(dirname "$log")"
  echo "fuzz: $h for ${SECONDS_EACH} s"
  "$BUILD_DIR/tests/fuzz/${h}_fuzz" -max_total_time="$SECONDS_EACH" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts" \
    "$work" "$seeds" >"$log" 2>&1
  rc=$?
  stat() { sed -n "s/^stat::$1: *//p" "$log" | tail -n 1; }
  execs=$(stat number_of_executed_units)
  rate=$(stat average_exec_per_sec)
  added=$(stat new_units_added)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
  if ((rc != 0)); then
    failed=$((failed + 1))
    summary+=("$(printf '  %-18s FAILED (exit %d): see %s and %s' "$h" "$rc" "$log" "$artifacts")")
    grep -E 'invariant violated|ERROR: (AddressSanitizer|libFuzzer|LeakSanitizer)|runtime error|Test unit written' \
      "$log" | head -n 5 | sed 's/^/    /' >&2
  else
    summary+=("$(printf '  %-18s ok  %9s execs  %7s exec/s  %4s new  %s' "$h" "${execs:-?}" \
      "${rate:-?}" "${added:-?}" "${cov:-}")")
  fi
done
echo "fuzz: ${SECONDS_EACH} s per harness"
printf '%s\n' "${summary[@]}"
((failed == 0)) || { echo "fuzz: $failed harness(es) failed" >&2; exit 1; }
echo "fuzz: all ${#HARNESSES[@]} harnesses passed"
