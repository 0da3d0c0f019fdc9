#!/usr/bin/env bash
# The quick start: the daemon on its embedded defaults (loopback, MEE/NBS factors built in), fed
# by a simulated fleet of 2,000 meters across China's 31 provinces (yesterday's readings, sent
# over TCP), then where to look. The daemon keeps running until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.build/release/gridcarbon
dir=${DEMO_DIR:-demo}
tcp=${DEMO_TCP:-127.0.0.1:7070}
http=${DEMO_HTTP:-127.0.0.1:8080}
rm -rf "$dir"
"$bin" simulate --meters 2000 --registry "$dir/registry.csv" --records /dev/null 2>/dev/null
# A short idle timeout: once the fleet has sent yesterday, the watermark follows the clock and
# every window of yesterday closes.
"$bin" serve --registry "$dir/registry.csv" --data "$dir/data" --tcp "$tcp" --http "$http" --idle-timeout 2s > "$dir/serve.log" 2>&1 &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null; exit 0' INT TERM
for _ in $(seq 100); do curl -sf "http://$http/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -sf "http://$http/readyz" >/dev/null || { echo "the daemon did not start:"; cat "$dir/serve.log"; exit 1; }
echo "gridcarbon serve is running (pid $pid): TCP $tcp, HTTP $http, data in $dir/data"
"$bin" simulate --meters 2000 --send "tcp://$tcp" 2>&1 | sed 's/^/  /'
for _ in $(seq 100); do [ -n "$(ls "$dir"/data/aggregates/window=1d/date=*/0000.csv.zst 2>/dev/null)" ] && break; sleep 0.2; done
echo
echo "Yesterday per province (kg CO2; intensity in kg CO2/kWh):"
"$bin" cat "$dir/data" --level province --window 1d
cat <<EOT

Where to look:
  files     $dir/data/aggregates/window=*/date=*/HHMM.csv.zst  (zstdcat, DuckDB, pandas: see README)
  API       curl 'http://$http/v1/aggregates?window=1h&level=province&limit=1'
            curl 'http://$http/v1/totals?level=industry'
  metrics   curl http://$http/metrics | grep gridcarbon_
  dashboard http://$http/  (in a browser)
The daemon keeps running; Ctrl-C stops it cleanly.
EOT
wait $pid
