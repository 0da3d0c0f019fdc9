#!/usr/bin/env bash
# End to end: simulate -> replay -> compare every aggregate row with an independent DuckDB SQL
# computation over the same input (scripts/reference.py), at relative 1e-9 plus the rounding of
# the printed %.6f value. Then DuckDB reads gridcarbon's own files as they are, and the energy
# balance (§3.4 conservation) is checked from them.
#   usage: scripts/e2e-duckdb.sh [GRIDCARBON_BINARY] [METERS]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-.build/debug/gridcarbon}
meters=${2:-1500}
work=$(mktemp -d /tmp/gridcarbon-e2e-XXXXXX)
trap 'rm -rf "$work"' EXIT

echo "e2e: simulating $meters meters, a messy day (disorder, jitter, duplicates, resets, gaps, bad lines, interval meters, factor feeds)"
"$bin" simulate --meters "$meters" --start 2026-11-18 --seed 7 --disorder 600 --jitter 120 \
  --duplicates 0.002 --resets 0.0005 --gaps 0.0005 --bad-lines 0.001 --interval-share 0.1 \
  --mixed-timestamps --zstd --out "$work/sim" 2>/dev/null

# Interval resends and overlaps (§3.1), right after their originals: every 40th i record is sent
# again as it was (duplicate), corrected (conflicting_duplicate) and shifted by 5 minutes
# (overlapping_interval).
zstd -dcq "$work/sim/records.csv.zst" | python3 -c '
import sys
from datetime import datetime, timedelta
def shift(t):
    if t.isdigit():
        return str(int(t) + 300)
    return (datetime.fromisoformat(t) + timedelta(minutes=5)).isoformat()
n = 0
for line in sys.stdin:
    sys.stdout.write(line)
    if line.startswith("i,"):
        n += 1
        if n % 40 == 0:
            k, m, a, b, kwh = line.rstrip("\n").split(",")
            sys.stdout.write(line)
            sys.stdout.write("%s,%s,%s,%s,%s\n" % (k, m, a, b, float(kwh) + 1))
            sys.stdout.write("%s,%s,%s,%s,%s\n" % (k, m, shift(a), shift(b), kwh))
' | zstd -q -o "$work/records.csv.zst"

t0=$(date +%s.%N)
"$bin" replay --registry "$work/sim/registry.csv" --data "$work/data" --no-progress --no-fsync "$work/records.csv.zst" | tee "$work/replay.txt"
t1=$(date +%s.%N)
python3 scripts/reference.py --registry "$work/sim/registry.csv" --out "$work/ref" "$work/records.csv.zst" > "$work/ref.txt"
t2=$(date +%s.%N)
cat "$work/ref.txt" | grep -E '^(accepted|duplicate|rejected|late|late_span_kwh|reference_seconds|rejected_conflicting_duplicate|rejected_overlapping_interval)=' || true
grep -q '^rejected_overlapping_interval=[1-9]' "$work/ref.txt" || { echo "e2e: FAIL: no overlapping_interval in the input"; exit 1; }

# The same line counts on both sides.
for k in accepted duplicate rejected late; do
  ours=$(grep -E "^  $k " "$work/replay.txt" | awk '{gsub(",","",$2); print $2}')
  theirs=$(grep -E "^$k=" "$work/ref.txt" | cut -d= -f2)
  if [ "$ours" != "$theirs" ]; then echo "e2e: FAIL $k: gridcarbon $ours, reference $theirs"; exit 1; fi
done

# Every row of every window.
python3 scripts/compare.py "$work/ref" "$work/data"

# DuckDB reads the files as they are; national energy plus late_span energy equals all span energy.
python3 - "$work" <<'PY'
import duckdb, sys, re
work = sys.argv[1]
con = duckdb.connect()
rows = con.execute(f"""select "window", count(*), sum(energy_kwh) from read_csv('{work}/data/aggregates/**/*.csv.zst', hive_partitioning=true)
                        where level = 'national' group by "window" order by "window" """).fetchall()
late = con.execute(f"select coalesce(sum(kwh), 0) from read_json('{work}/data/late/*.ndjson.zst') where reason='late_span'").fetchone()[0] if __import__('glob').glob(f"{work}/data/late/*") else 0.0
ref = dict(l.strip().split('=', 1) for l in open(f"{work}/ref.txt") if '=' in l)
span_kwh = float(ref['span_kwh'])
for window, n, energy in rows:
    total = energy + late
    ok = abs(total - span_kwh) <= 1e-6 * span_kwh
    print(f"e2e: window {window}: {n} national rows, {energy:.3f} kWh + late_span {late:.3f} kWh = {total:.3f} (all spans {span_kwh:.3f}) {'ok' if ok else 'MISMATCH'}")
    if not ok:
        sys.exit(1)
PY
printf 'e2e: gridcarbon replay %.2f s, DuckDB reference %.2f s\n' "$(echo "$t1 - $t0" | bc)" "$(echo "$t2 - $t1" | bc)"

# The same check on a feed as a head-end system forwards it (--profile realistic: collector order,
# jittered clocks, three spellings, ids of several shapes, interval meters).
echo "e2e: simulating $meters meters, --profile realistic"
"$bin" simulate --meters "$meters" --start 2026-11-18 --seed 11 --profile realistic --out "$work/real" 2>/dev/null
"$bin" replay --registry "$work/real/registry.csv" --data "$work/real/data" --no-progress --no-fsync "$work/real/records.csv" > "$work/real/replay.txt"
python3 scripts/reference.py --registry "$work/real/registry.csv" --out "$work/real/ref" "$work/real/records.csv" > "$work/real/ref.txt"
for k in accepted duplicate rejected late; do
  ours=$(grep -E "^  $k " "$work/real/replay.txt" | awk '{gsub(",","",$2); print $2}')
  theirs=$(grep -E "^$k=" "$work/real/ref.txt" | cut -d= -f2)
  if [ "$ours" != "$theirs" ]; then echo "e2e: FAIL realistic $k: gridcarbon $ours, reference $theirs"; exit 1; fi
done
python3 scripts/compare.py "$work/real/ref" "$work/real/data"
echo "e2e: 2 passed, 0 failed"
