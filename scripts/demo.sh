#!/usr/bin/env bash
# The quick start: simulate yesterday for 2,000 meters across China's 31 provinces, replay it
# through the engine with the embedded MEE/NBS factors, and show the day per province.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.build/release/gridcarbon
dir=${DEMO_DIR:-demo}
rm -rf "$dir"
"$bin" simulate --meters 2000 --out "$dir/sim"
"$bin" replay --registry "$dir/sim/registry.csv" --data "$dir/data" "$dir/sim/records.csv"
echo
echo "Emissions per province, yesterday (kg CO2; intensity in kg CO2/kWh):"
"$bin" cat "$dir/data" --level province --window 1d
echo
echo "Files: $dir/data/aggregates/window=*/date=*/HHMM.csv.zst — try:"
echo "  zstdcat $dir/data/aggregates/window=1h/date=*/1200.csv.zst | head"
echo "  duckdb -c \"select level, key, sum(co2_kg) from read_csv('$dir/data/aggregates/window=1h/**/*.csv.zst', hive_partitioning=true) where level='industry' group by all order by 3 desc\""
