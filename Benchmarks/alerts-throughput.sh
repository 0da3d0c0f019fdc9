#!/usr/bin/env bash
# Replay throughput with 10,000 alert rules against none, release build, on this machine (the
# alerts issue asks for a drop of at most 10 %). The rules: 5,000 intensity rules, each on one
# enterprise (a warning and a critical threshold for 2,500 enterprises, 1h windows), and 5,000
# enterprise budgets (a day budget for every enterprise, a month budget for the rest up to 5,000)
# watched by a budget and a forecast rule.
# Usage: Benchmarks/alerts-throughput.sh   (RUNS=N for more runs; BENCH_DIR to reuse a fleet)
set -euo pipefail
cd "$(dirname "$0")/.."
work=${BENCH_DIR:-/tmp/gridcarbon-bench}
runs=${RUNS:-3}
mkdir -p "$work"
swift build -c release --product gridcarbon >/dev/null
bin=$PWD/.build/release/gridcarbon
if [ ! -f "$work/day/records.csv" ]; then
  "$bin" simulate --meters 100000 --start 2026-11-18 --out "$work/day" 2>&1 | sed 's/^/   /'
fi
lines=$(wc -l < "$work/day/records.csv")
python3 - "$work" <<'PY'
import csv, json, sys
work = sys.argv[1]
ents = sorted({r["enterprise"] for r in csv.DictReader(open(f"{work}/day/registry.csv")) if r["enterprise"]})
assert len(ents) >= 2500, f"need 2,500 enterprises, the fleet has {len(ents)}"
rules = []
for e in ents[:2500]:
    rules.append({"name": f"hot-{e}", "kind": "intensity", "level": "enterprise", "key": e, "window": "1h", "threshold": 0.75})
    rules.append({"name": f"very-hot-{e}", "kind": "intensity", "level": "enterprise", "key": e, "window": "1h", "threshold": 0.9, "severity": "critical"})
rules += [{"name": "budget", "kind": "budget"}, {"name": "forecast", "kind": "forecast"}]
json.dump({"alerts": {"rules": rules, "budgets": "budgets.csv"}}, open(f"{work}/alerts.json", "w"), indent=1)
with open(f"{work}/budgets.csv", "w") as f:
    f.write("level,key,period,budget_kg\n")
    budgets = [(e, "day") for e in ents] + [(e, "month") for e in ents][: 5000 - len(ents)]
    for e, period in budgets:
        f.write(f"enterprise,{e},{period},{400 if period == 'day' else 9000}\n")
print(f"   {len(rules) - 2} intensity rules + {len(budgets)} budgets (budget and forecast rules)")
PY
echo "== machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
plain=(); alerts=(); plainCPU=(); alertsCPU=()
for i in $(seq "$runs"); do
  for mode in plain alerts; do
    rm -rf "$work/out-$mode"
    extra=()
    [ "$mode" = alerts ] && extra=(--config "$work/alerts.json")
    s=$(date +%s.%N)
    /usr/bin/time -f '%U %S' -o "$work/cpu-$mode.txt" \
      taskset -c 0 "$bin" replay --registry "$work/day/registry.csv" --data "$work/out-$mode" --no-progress "${extra[@]}" "$work/day/records.csv" > "$work/summary-$mode.txt"
    e=$(date +%s.%N)
    t=$(echo "$e - $s" | bc)
    c=$(awk '{print $1 + $2}' "$work/cpu-$mode.txt")
    if [ "$mode" = plain ]; then plain+=("$t"); plainCPU+=("$c"); else alerts+=("$t"); alertsCPU+=("$c"); fi
  done
done
best() { printf '%s\n' "$@" | sort -n | head -1; }
bp=$(best "${plain[@]}"); ba=$(best "${alerts[@]}")
printf '== no rules:     best %.2f s = %.2f M lines/s (runs: %s)\n' "$bp" "$(echo "$lines / $bp / 1000000" | bc -l)" "${plain[*]}"
printf '== 10,000 rules: best %.2f s = %.2f M lines/s (runs: %s)\n' "$ba" "$(echo "$lines / $ba / 1000000" | bc -l)" "${alerts[*]}"
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
mp=$(median "${plain[@]}"); ma=$(median "${alerts[@]}")
cp=$(best "${plainCPU[@]}"); ca=$(best "${alertsCPU[@]}")
printf '== throughput drop: %.1f %% (best against best; medians %.2f s and %.2f s: %.1f %%)\n' \
  "$(echo "($ba - $bp) / $ba * 100" | bc -l)" "$mp" "$ma" "$(echo "($ma - $mp) / $ma * 100" | bc -l)"
# CPU time (user + system) is less disturbed by other tenants of a shared machine than wall time.
printf '== CPU time: best %.2f s without rules, %.2f s with: throughput drop %.1f %%\n' "$cp" "$ca" "$(echo "($ca - $cp) / $ca * 100" | bc -l)"
grep "alert events" "$work/summary-alerts.txt" | sed 's/^/   /'
cmp -s <(cd "$work/out-plain/aggregates" && find . -type f | sort | xargs cat | md5sum) <(cd "$work/out-alerts/aggregates" && find . -type f | sort | xargs cat | md5sum) \
  && echo "   aggregate files identical with and without rules"
