#!/bin/sh
# Exact instructions per packet of each vsgate-bench scenario, with callgrind.
#
# Each scenario runs twice under valgrind --tool=callgrind --instr-atstart=no, measuring N and
# then 2N packets (vsgate-bench --callgrind N turns instrumentation on around the measured loop
# only). Setup, table population and the fixed cost of starting and stopping the loop appear in
# both counts and cancel out:  instructions per packet = (Ir(2N) - Ir(N)) / N.
#
# usage: tests/bench/callgrind.sh [BUILD_DIR]      (default: build)
# environment:
#   N=16384          packets of the first run (the second runs 2N)
#   CONNS=1048576    connections of est-large, and table capacity of new. 1M takes about 20 s
#                    per run here (populating it under valgrind); a smaller table (e.g. 131072)
#                    is quicker and changes the count by a few instructions only (probe length).
#   SCENARIOS="baseline est-small est-large new"
#   CACHESIM=1       also simulate caches (--cache-sim=yes, LL=$LL): D1 and LL misses per
#                    packet. Slower. LL defaults to 32 MiB, 16-way: a table of 1M connections
#                    (96 MiB) does not fit, as in a worker's share of a real LLC.
#   UNSTAGED=1       est-* decided packet by packet, without staging (vsgate-bench --unstaged)
#   ARGS=...         more vsgate-bench options, e.g. ARGS=--ip-cksum-offload
#   TOP=15           rows of the per-function breakdown printed for each scenario (0: none)
#   OUT=dir          keep the callgrind.out files there (default: a temporary directory, kept
#                    and printed so `callgrind_annotate` can be run on them)
set -eu

build=${1:-build}
bench=$build/tests/bench/vsgate-bench
N=${N:-16384}
CONNS=${CONNS:-1048576}
SCENARIOS=${SCENARIOS:-"baseline est-small est-large new"}
CACHESIM=${CACHESIM:-0}
UNSTAGED=${UNSTAGED:-0}
TOP=${TOP:-15}
LL=${LL:-33554432,16,64}
OUT=${OUT:-$(mktemp -d /tmp/vsgate-callgrind.XXXXXX)}
mkdir -p "$OUT"

[ -x "$bench" ] || { echo "callgrind.sh: $bench not built" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "callgrind.sh: valgrind not installed" >&2; exit 1; }

sim=""
unstaged=""
[ "$UNSTAGED" = 1 ] && unstaged="--unstaged"
ARGS=${ARGS:-}
[ "$CACHESIM" = 1 ] && sim="--cache-sim=yes --LL=$LL"

# The event names and the totals line of a callgrind output file.
events() { awk '/^events:/ { $1 = ""; print; exit }' "$1"; }
totals() { awk '/^totals:/ { $1 = ""; print; exit }' "$1"; }

n2=$((2 * N))
echo "vsgate-bench under callgrind: N=$N, 2N=$n2, CONNS=$CONNS, UNSTAGED=$UNSTAGED, ARGS=$ARGS, output in $OUT"
header=""
for s in $SCENARIOS; do
  for n in $N $n2; do
    # shellcheck disable=SC2086  # $sim, $unstaged and $ARGS are lists of options
    if ! valgrind --tool=callgrind --instr-atstart=no $sim \
        --callgrind-out-file="$OUT/$s.$n.out" \
        "$bench" --callgrind "$n" --scenario "$s" --large-conns "$CONNS" --new-conns "$CONNS" \
        $unstaged $ARGS \
        >"$OUT/$s.$n.log" 2>&1; then
      echo "callgrind.sh: $s with $n packets failed:" >&2
      tail -20 "$OUT/$s.$n.log" >&2
      exit 1
    fi
  done
  if [ -z "$header" ]; then
    header=$(events "$OUT/$s.$N.out")
    printf '%-10s' scenario
    for e in $header; do printf ' %10s' "$e/pkt"; done
    echo
  fi
  t1=$(totals "$OUT/$s.$N.out")
  t2=$(totals "$OUT/$s.$n2.out")
  printf '%-10s' "$s"
  # Marginal count per event: (total(2N) - total(N)) / N.
  echo "$t1 / $t2" | awk -v n="$N" '{
    split($0, h, " / "); k = split(h[1], a, " "); split(h[2], b, " ");
    for (i = 1; i <= k; i++) printf " %10.1f", (b[i] - a[i]) / n; printf "\n" }'
done

# Where the instructions go: callgrind_annotate's exclusive counts of the 2N run (only the
# measured loop is instrumented) per packet, by source file and function. Code inlined from
# another file is listed under that file and the function it was inlined into, e.g.
# "classify.h Bench::lb" is classify() inlined into the benchmark loop.
breakdown() {
  callgrind_annotate --inclusive=no --threshold=100 "$1" 2>/dev/null | awk -v n="$2" -v top="$TOP" '
    /file:function/ { on = 1; next }
    on && /^-+$/ { next }
    on && NF == 0 { if (rows) exit; next }
    on {
      ir = $1; gsub(/,/, "", ir)
      line = $0; sub(/^ *[0-9,]+ +\([ 0-9.]+%\) +/, "", line)
      while (sub(/ \[[^]]*\]$/, "", line)) {}
      file = substr(line, 1, index(line, ":") - 1); fn = substr(line, index(line, ":") + 1)
      nf = split(file, parts, "/"); file = parts[nf]
      gsub(/\(anonymous namespace\)::/, "", fn)
      do { c = gsub(/<[^<>]*>/, "", fn) + gsub(/\([^()]*\)/, "", fn) } while (c)
      nw = split(fn, words, " "); fn = words[nw]
      sub(/^vsgate::(bench::)?/, "", fn)
      rows++
      if (rows <= top) printf "    %8.1f  %-22s %s\n", ir / n, file, fn
    }'
}
if [ "$TOP" -gt 0 ]; then
  for s in $SCENARIOS; do
    echo "$s: instructions per packet by source file and function (top $TOP, exclusive)"
    breakdown "$OUT/$s.$n2.out" "$n2"
  done
fi
echo "more: callgrind_annotate --inclusive=yes $OUT/<scenario>.$n2.out"
