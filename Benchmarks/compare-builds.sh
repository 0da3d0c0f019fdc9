#!/usr/bin/env bash
# A/B two release binaries of gridcarbon on the same replay: interleaved pairs (order alternating,
# so slow phases of a shared machine hit both sides alike), one core each (taskset -c 0), on a
# simulated day of 100,000 meters in realistic order when the simulator has it. Prints each side's
# best and the median of the per-pair differences, and checks that both wrote the same bytes.
# Usage: Benchmarks/compare-builds.sh BIN_A BIN_B   (RUNS=N pairs, default 8; BENCH_DIR to reuse data)
set -euo pipefail
a=$(realpath "$1"); b=$(realpath "$2")
work=${BENCH_DIR:-/tmp/gridcarbon-bench}
runs=${RUNS:-8}
mkdir -p "$work"
if [ ! -f "$work/day/records.csv" ]; then
  "$a" simulate --meters 100000 --start 2026-11-18 --out "$work/day" 2>&1 | sed 's/^/   /'
fi
lines=$(wc -l < "$work/day/records.csv")
echo "== machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $lines lines"
: > "$work/ab-times.txt"
run() {
  local side=$1 bin=$2
  rm -rf "$work/ab-$side"
  /usr/bin/time -f '%e %U %S' -o "$work/ab-time-$side.txt" \
    taskset -c 0 "$bin" replay --registry "$work/day/registry.csv" --data "$work/ab-$side" --no-progress "$work/day/records.csv" > /dev/null
  echo "$side $(awk '{print $1, $2 + $3}' "$work/ab-time-$side.txt")" >> "$work/ab-times.txt"
}
for i in $(seq "$runs"); do
  if [ $((i % 2)) -eq 1 ]; then run a "$a"; run b "$b"; else run b "$b"; run a "$a"; fi
done
python3 - "$work/ab-times.txt" "$lines" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
lines = int(sys.argv[2])
A = [(float(w), float(c)) for s, w, c in rows if s == "a"]
B = [(float(w), float(c)) for s, w, c in rows if s == "b"]
for name, k in (("wall", 0), ("CPU", 1)):
    pairs = [(y[k] - x[k]) / x[k] * 100 for x, y in zip(A, B)]
    ba, bb = min(x[k] for x in A), min(y[k] for y in B)
    print(f"== {name}: A best {ba:.2f} s ({lines / ba / 1e6:.2f} M lines/s), B best {bb:.2f} s ({lines / bb / 1e6:.2f} M lines/s);"
          f" B takes {statistics.median(pairs):+.1f} % (median of {len(pairs)} pairs: {' '.join(f'{d:+.1f}' for d in pairs)})")
PY
if diff -rq "$work/ab-a/aggregates" "$work/ab-b/aggregates" > /dev/null; then echo "   aggregate files identical"; else echo "   AGGREGATE FILES DIFFER"; exit 1; fi
