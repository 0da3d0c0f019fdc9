#!/usr/bin/env bash
# Replay throughput and memory, release build, on this machine. Prints the figures the engine
# issues ask for:
#   1. a simulated day of 100,000 meters at 15-minute reads (about 9.6 million lines) as a head-end
#      system forwards it (`simulate --profile realistic`: collector order, jittered clocks, three
#      spellings, id shapes, interval meters), replayed end to end (all levels, all windows, fsync
#      on) from a plain file and from .zst; then the same fleet in registry order
#      (`--profile ideal`), for comparison with the figures measured before the realistic profile;
#   2. resident memory per meter with 1,000,000 meters (a whole realistic day streamed through stdin);
#   3. the DuckDB reference computation of the same realistic 100,000-meter day, for comparison.
# Usage: Benchmarks/replay-throughput.sh [--quick]   (--quick skips the 1M-meter and DuckDB runs)
set -euo pipefail
cd "$(dirname "$0")/.."
quick=${1:-}
work=${BENCH_DIR:-/tmp/gridcarbon-bench}
mkdir -p "$work"
# GRIDCARBON_BIN: a release binary built elsewhere (otherwise this checkout's is built).
if [ -n "${GRIDCARBON_BIN:-}" ]; then bin=$(realpath "$GRIDCARBON_BIN"); else
  swift build -c release --product gridcarbon >/dev/null
  bin=$PWD/.build/release/gridcarbon
fi
runs=${RUNS:-3}

echo "== machine: $(nproc) cores, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
if [ ! -f "$work/real/records.csv" ]; then
  "$bin" simulate --meters 100000 --start 2026-11-18 --profile realistic --out "$work/real" 2>&1 | sed 's/^/   /'
  "$bin" simulate --meters 100000 --start 2026-11-18 --profile realistic --zstd --out "$work/realz" 2>&1 | tail -1 | sed 's/^/   /'
fi
if [ ! -f "$work/ideal/records.csv" ]; then
  "$bin" simulate --meters 100000 --start 2026-11-18 --profile ideal --out "$work/ideal" 2>&1 | tail -1 | sed 's/^/   /'
fi

best() { sort -n | head -1; }
for run in "realistic $work/real/registry.csv $work/real/records.csv" "realistic $work/real/registry.csv $work/realz/records.csv.zst" \
           "ideal $work/ideal/registry.csv $work/ideal/records.csv"; do
  read -r profile registry input <<< "$run"
  lines=$(if [[ $input == *.zst ]]; then zstd -dc "$input"; else cat "$input"; fi | wc -l)
  times=()
  for i in $(seq "$runs"); do
    rm -rf "$work/out"
    s=$(date +%s.%N)
    taskset -c 0 "$bin" replay --registry "$registry" --data "$work/out" --no-progress "$input" > "$work/summary.txt"
    e=$(date +%s.%N)
    times+=("$(echo "$e - $s" | bc)")
  done
  b=$(printf '%s\n' "${times[@]}" | best)
  printf '== replay %s (%s): %s lines, best of %s on one core (taskset -c 0): %.2f s = %.2f M lines/s (runs: %s)\n' \
    "$(basename "$input")" "$profile" "$lines" "$runs" "$b" "$(echo "$lines / $b / 1000000" | bc -l)" "${times[*]}"
  sed 's/^/   /' "$work/summary.txt" | head -6
done

if [ "$quick" != "--quick" ]; then
  mkdir -p "$work/m1"
  # The registry first (the same seed gives the same fleet), then the day streamed through a pipe.
  "$bin" simulate --meters 1000000 --start 2026-11-18 --profile realistic --registry "$work/m1/registry.csv" --records /dev/null 2>/dev/null
  "$bin" simulate --meters 1000000 --start 2026-11-18 --profile realistic --registry "$work/m1/registry-again.csv" --records - 2>/dev/null \
    | /usr/bin/time -f '%M' -o "$work/m1/rss.txt" "$bin" replay --registry "$work/m1/registry.csv" --data "$work/m1/out" --no-progress - > "$work/m1/summary.txt"
  rss=$(cat "$work/m1/rss.txt")
  printf '== memory: 1,000,000 meters, a realistic day (about 96 million lines): max resident %s KiB = %.0f bytes per meter\n' "$rss" "$(echo "$rss * 1024 / 1000000" | bc -l)"
  sed 's/^/   /' "$work/m1/summary.txt" | head -2
  rm -rf "$work/m1/out"

  s=$(date +%s.%N)
  python3 scripts/reference.py --registry "$work/real/registry.csv" --out "$work/ref" "$work/real/records.csv" > "$work/ref.txt"
  e=$(date +%s.%N)
  rm -rf "$work/out"
  taskset -c 0 "$bin" replay --registry "$work/real/registry.csv" --data "$work/out" --no-progress "$work/real/records.csv" > /dev/null
  printf '== DuckDB reference over the same realistic 100,000-meter day: %.1f s wall (%s)\n' "$(echo "$e - $s" | bc)" "$(grep reference_seconds "$work/ref.txt")"
  python3 scripts/compare.py "$work/ref" "$work/out" | tail -1 | sed 's/^/   compare: /'
fi
