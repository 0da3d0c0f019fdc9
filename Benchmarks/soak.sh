#!/usr/bin/env bash
# Soak: the daemon fed over TCP at a fixed rate for a while (default 80 % of 1.8 M lines/s for
# 10 minutes), its resident memory sampled every 10 s. Prints the samples and the spread after the
# first minute (warm-up): it should stay within 10 %.
#   usage: Benchmarks/soak.sh [SECONDS] [LINES_PER_SECOND]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
rate=${2:-1440000}
work=${BENCH_DIR:-/tmp/gridcarbon-soak}
rm -rf "$work" && mkdir -p "$work"
# GRIDCARBON_BIN: a release binary built elsewhere (otherwise this checkout's is built).
if [ -n "${GRIDCARBON_BIN:-}" ]; then bin=$(realpath "$GRIDCARBON_BIN"); else
  swift build -c release --product gridcarbon >/dev/null
  bin=$PWD/.build/release/gridcarbon
fi
days=$(( seconds * rate / 9600000 + 2 ))
start=$(date -u -d "@$(( $(date +%s) + 8*3600 - (days + 2) * 86400 ))" +%Y-%m-%d)
"$bin" simulate --meters 100000 --start "$start" --days "$days" --registry "$work/registry.csv" --records /dev/null 2>/dev/null
"$bin" serve --registry "$work/registry.csv" --data "$work/data" --tcp 127.0.0.1:37070 --http 127.0.0.1:38080 --idle-timeout 1h > "$work/serve.log" 2>&1 &
pid=$!
for _ in $(seq 100); do curl -sf http://127.0.0.1:38080/readyz >/dev/null 2>&1 && break; sleep 0.1; done
timeout "$seconds" "$bin" simulate --meters 100000 --start "$start" --days "$days" --send tcp://127.0.0.1:37070 --rate "$rate" 2>/dev/null &
gen=$!
t0=$(date +%s)
: > "$work/rss.txt"
while kill -0 "$gen" 2>/dev/null; do
  sleep 10
  rss=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
  lines=$(curl -s http://127.0.0.1:38080/metrics | awk '/^gridcarbon_records_total/ {s+=$2} END {print s+0}')
  echo "$(( $(date +%s) - t0 )) s: RSS ${rss} KiB, ${lines} records" | tee -a "$work/rss.txt"
done
kill -TERM "$pid"; wait "$pid" || true
# The daemon keeps the newest 24 windows of each length for the API (a bounded cache); at this
# rate the simulated clock runs ~150 times ahead of the wall clock, so the 24 daily windows fill
# in minutes, not weeks: the steady state starts then (the spread from 60 s is shown too).
fill=$(( 24 * 100000 * 96 / rate + 1 ))
for warm in 60 $(( fill > 60 ? fill : 60 )); do
  awk -v warm="$warm" '{t=$1+0; v=$4+0; if (t>=warm) {n++; if (min==""||v<min) min=v; if (v>max) max=v}} END {printf "soak: from %d s, RSS between %d and %d KiB: spread %.1f %% of the minimum over %d samples\n", warm, min, max, (max-min)*100/min, n}' "$work/rss.txt"
done
awk '{t=$1+0; v=$4+0; if (t>=60 && t<180) {a+=v; na++} if (t>=480) {b+=v; nb++}} END {if (na && nb) printf "soak: mean RSS 60-180 s %.0f KiB, 480 s to the end %.0f KiB: %+.1f %%\n", a/na, b/nb, (b/nb-a/na)*100/(a/na)}' "$work/rss.txt"
echo "soak: WAL on disk at the end: $(du -sh "$work/data/wal" | cut -f1); aggregate files: $(find "$work/data/aggregates" -name '*.zst' | wc -l)"
