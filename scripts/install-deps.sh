#!/usr/bin/env bash
# Installs what gridcarbon's build, demo and tests need and this machine lacks:
# libzstd-dev, zstd and prometheus-alertmanager (Debian; the alert push test runs a real one),
# prometheus (Debian, with promtool; scripts/prometheus-test.py runs a real one on its own port),
# libnats-dev, nats-server and mosquitto-clients (Debian; the JetStream tests run real servers
# and publish over MQTT), chromium (Debian; the dashboard test drives it headless over the DevTools
# protocol with scripts/cdp.py, standard library only), DuckDB and pytest (PyPI). Idempotent; quiet when all is there.
set -euo pipefail
need=()
pkg-config --exists libzstd 2>/dev/null || need+=(libzstd-dev)
command -v zstd >/dev/null || need+=(zstd)
command -v pkg-config >/dev/null || need+=(pkg-config)
[ -x /usr/bin/prometheus-alertmanager ] || need+=(prometheus-alertmanager)
{ [ -x /usr/bin/prometheus ] && [ -x /usr/bin/promtool ]; } || need+=(prometheus)
pkg-config --exists libnats 2>/dev/null || need+=(libnats-dev)
{ command -v nats-server || [ -x /usr/sbin/nats-server ]; } >/dev/null || need+=(nats-server)   # Debian puts it in /usr/sbin
command -v mosquitto_pub >/dev/null || need+=(mosquitto-clients)
command -v chromium >/dev/null || need+=(chromium)   # scripts/dashboard-test.py drives it headless
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]} (apt-get)" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
py=()
python3 -c 'import duckdb' 2>/dev/null || py+=(duckdb)
python3 -c 'import pytest' 2>/dev/null || py+=(pytest)
command -v duckdb >/dev/null || py+=(duckdb-cli)
if [ ${#py[@]} -gt 0 ]; then
  echo "installing ${py[*]} (pip)" >&2
  python3 -m pip install -q "${py[@]}"
fi
