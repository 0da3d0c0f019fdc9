#!/usr/bin/env bash
# Daemon ingest figures, release build, generator and daemon side by side on this machine:
#   TCP: `simulate --send` streams a day of 100,000 meters (9.6 M lines) on one connection, fsync
#        batch (group commit), ending with !sync: durable records per second;
#   HTTP: the same day POSTed in 10,000-line batches: durable records per second;
#   window write latency (slot close -> file renamed) from the daemon's own measurements.
set -euo pipefail
cd "$(dirname "$0")/.."
work=${BENCH_DIR:-/tmp/gridcarbon-bench}
mkdir -p "$work"
# GRIDCARBON_BIN: a release binary built elsewhere (otherwise this checkout's is built).
if [ -n "${GRIDCARBON_BIN:-}" ]; then bin=$(realpath "$GRIDCARBON_BIN"); else
  swift build -c release --product gridcarbon >/dev/null
  bin=$PWD/.build/release/gridcarbon
fi
[ -f "$work/day/records.csv" ] || "$bin" simulate --meters 100000 --start 2026-11-18 --out "$work/day" 2>/dev/null

serve() {
  rm -rf "$work/served"
  "$bin" serve --registry "$work/day/registry.csv" --data "$work/served" \
    --tcp 127.0.0.1:27070 --http 127.0.0.1:28080 --idle-timeout 1h > "$work/served.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do curl -sf http://127.0.0.1:28080/readyz >/dev/null 2>&1 && return; sleep 0.1; done
  echo "daemon did not start"; cat "$work/served.log"; exit 1
}
stop() {
  echo "   daemon max RSS: $(grep VmHWM /proc/$pid/status | awk '{print $2, $3}')"
  kill -TERM "$pid"; wait "$pid" || true
}

serve
"$bin" simulate --meters 100000 --start 2026-11-18 --send tcp://127.0.0.1:27070 2>&1 | sed 's/^/tcp: /'
curl -s http://127.0.0.1:28080/metrics | grep -E '^gridcarbon_window_write_recent_seconds' | sed 's/^/   /'
stop

serve
python3 Benchmarks/http-post.py "$work/day/records.csv" 28080 10000 2
stop
