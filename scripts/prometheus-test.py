#!/usr/bin/env python3
"""Prometheus, for real (docs/metrics.md, reference §6).

1. `promtool check rules` and `promtool test rules` on prometheus/gridcarbon.rules.yml (every
   alerting rule firing and not firing, every recording rule's value) and `promtool check config`
   on prometheus/prometheus.example.yml.
2. A real daemon (`--bin`, tokens on: /metrics needs a bearer token with the `read` role, checked
   by a 401 without one) and a real `prometheus` (Debian package) on free loopback ports, with a
   temporary storage folder, scraping the daemon every second with the read token from a
   credentials file, the shipped rules loaded. The daemon is fed simulated lines of the last 6
   hours (HTTP, with the ingest token) and closes their windows (the watermark follows the lines).
3. Prometheus' HTTP API (/api/v1/query) must then answer, for every province, the carbon gauges
   and counters with exactly the values the daemon's /metrics shows at that moment
   (gridcarbon_emissions_today_kg, gridcarbon_emissions_kg_total,
   gridcarbon_intensity_last_hour_kg_per_kwh, gridcarbon_emissions_last_hour_kg), and these must
   agree with the daemon's API (/v1/totals day_co2_kg, the last 1h window of /v1/aggregates); the
   recording rules must produce series (per-province and national intensity equal to the API's
   last hour, per-province emission rates > 0, today's emissions), every rule must evaluate with
   health ok, and the scrape target must be up.
Every process is stopped by its pid.

    scripts/prometheus-test.py [--bin .build/debug/gridcarbon] [--meters 200]
"""
import argparse, datetime, json, os, shutil, signal, subprocess, sys, tempfile, time, urllib.error, urllib.parse, urllib.request
from testkit import free_port, wait_port

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROM_DIR = os.path.join(ROOT, "prometheus")
ZONE = datetime.timezone(datetime.timedelta(hours=8))  # Asia/Shanghai, the daemon's default zone
READ_TOKEN = "prom-read-token-0123456789"
INGEST_TOKEN = "prom-ingest-token-0123456789"

def run(cmd, **kw):
    print("$", " ".join(cmd), flush=True)
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)
    print(r.stdout.rstrip(), flush=True)
    if r.returncode != 0:
        raise SystemExit(f"FAIL: {cmd[0]} {cmd[1]} exited {r.returncode}")

def http(url, token=None, body=None, method=None):
    """(status, body bytes) of a request; HTTP errors are answers, not exceptions."""
    req = urllib.request.Request(url, data=body, method=method)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()

def metrics(base):
    """The daemon's /metrics as {series: value} (series written as in the text)."""
    status, body = http(base + "/metrics", READ_TOKEN)
    if status != 200:
        raise SystemExit(f"FAIL: /metrics answered {status}")
    out = {}
    for line in body.decode().splitlines():
        if line and not line.startswith("#"):
            series, value = line.rsplit(" ", 1)
            out[series] = float(value)
    return out

def prom_query(prom, q):
    """{frozen labels (without __name__, job, instance): float value} of an instant query."""
    status, body = http(f"{prom}/api/v1/query?" + urllib.parse.urlencode({"query": q}))
    j = json.loads(body)
    if status != 200 or j.get("status") != "success":
        raise SystemExit(f"FAIL: Prometheus query {q!r}: {status} {body[:300]!r}")
    out = {}
    for r in j["data"]["result"]:
        labels = {k: v for k, v in r["metric"].items() if k not in ("__name__", "job", "instance")}
        out[tuple(sorted(labels.items()))] = float(r["value"][1])
    return out

def api_close(a, b):
    """`a` (a double) equals `b` as the API prints it: %.6f, trailing zeros dropped (reference §1)."""
    return a is not None and abs(a - b) <= 5e-7 + 1e-12 * abs(b)

def simulated_lines(binary, tmp, meters, now):
    """Registry path and the simulated lines (bytes) of the 6 hours before `now` (yesterday and
    today, local time), in arrival order."""
    start = (now.astimezone(ZONE) - datetime.timedelta(days=1)).date().isoformat()
    sim = os.path.join(tmp, "sim")
    run([binary, "simulate", "--meters", str(meters), "--days", "2", "--start", start, "--out", sim])
    lo, hi = now - datetime.timedelta(hours=6), now - datetime.timedelta(minutes=1)
    keep = []
    with open(os.path.join(sim, "records.csv"), "rb") as f:
        for line in f:
            fields = line.split(b",")
            if line.startswith(b"#") or len(fields) < 3:
                continue
            ts = datetime.datetime.fromisoformat(fields[2].decode())
            if lo <= ts <= hi:
                keep.append(line)
    return os.path.join(sim, "registry.csv"), b"".join(keep), len(keep)

def prometheus_config(tmp, http_port):
    token_file = os.path.join(tmp, "read.token")
    with open(token_file, "w") as f:
        f.write(READ_TOKEN + "\n")
    os.chmod(token_file, 0o600)
    config = os.path.join(tmp, "prometheus.yml")
    with open(config, "w") as f:
        f.write(f"""global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - {os.path.join(PROM_DIR, "gridcarbon.rules.yml")}
scrape_configs:
  - job_name: gridcarbon
    authorization:
      type: Bearer
      credentials_file: {token_file}
    static_configs:
      - targets: ["127.0.0.1:{http_port}"]
""")
    return config

def stop(proc, what):
    """SIGTERM by pid and wait; returns the exit status."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            print(f"{what} did not stop on SIGTERM: killed", flush=True)
    return proc.returncode

def compare_once(base, prom):
    """One comparison round: the daemon's state read twice around waiting for a Prometheus scrape
    newer than the first read. Returns a list of failures, or None when the daemon changed
    meanwhile (a window closed by wall time) and the round must be repeated."""
    fails = []
    before = metrics(base)
    _, totals_body = http(base + "/v1/totals?level=province", READ_TOKEN)
    _, hour_body = http(base + "/v1/aggregates?window=1h&level=province", READ_TOKEN)
    _, national_body = http(base + "/v1/aggregates?window=1h&level=national", READ_TOKEN)
    # Wait until Prometheus holds a scrape taken after the reads above.
    t0 = time.time()
    deadline = t0 + 30
    while True:
        ts = prom_query(prom, "timestamp(gridcarbon_windows_written_total)")
        if ts and min(ts.values()) > t0 + 0.5:
            break
        if time.time() > deadline:
            return ["Prometheus took no new scrape in 30 s"]
        time.sleep(0.5)
    after = metrics(base)
    watched = ("gridcarbon_emissions", "gridcarbon_energy", "gridcarbon_intensity", "gridcarbon_windows_written_total")
    if any(before.get(k) != after.get(k) for k in set(before) | set(after) if k.startswith(watched)):
        return None
    # 1. Prometheus has exactly the daemon's values.
    for name in ("gridcarbon_emissions_today_kg", "gridcarbon_emissions_kg_total", "gridcarbon_energy_kwh_total",
                 "gridcarbon_intensity_last_hour_kg_per_kwh", "gridcarbon_emissions_last_hour_kg", "gridcarbon_energy_last_hour_kwh"):
        got = prom_query(prom, name)
        want = {(("province", s.split('"')[1]),): v for s, v in after.items() if s.startswith(name + "{province=")}
        if not want:
            fails.append(f"{name}: not in the daemon's /metrics")
        if got != want:
            diff = sorted(k for k in set(got) | set(want) if got.get(k) != want.get(k))[:5]
            fails.append(f"{name}: Prometheus differs from /metrics at {[(k, got.get(k), want.get(k)) for k in diff]}")
    # 2. ... and they agree with the API.
    today = {row["key"]: row["day_co2_kg"] for row in json.loads(totals_body)["totals"]}
    if not any(v > 0 for v in today.values()):
        fails.append("/v1/totals: no emissions today (the fed lines were not taken)")
    for key, co2 in today.items():
        v = after.get(f'gridcarbon_emissions_today_kg{{province="{key}"}}')
        if not api_close(v, co2):
            fails.append(f"emissions today {key}: /metrics {v}, /v1/totals {co2}")
    windows = json.loads(hour_body)["windows"]
    if not windows:
        return fails + ["/v1/aggregates: no 1h window closed"]
    last = windows[-1]["rows"]
    for row in last:
        for name, field in (("gridcarbon_emissions_last_hour_kg", "co2_kg"), ("gridcarbon_energy_last_hour_kwh", "energy_kwh"),
                            ("gridcarbon_intensity_last_hour_kg_per_kwh", "intensity_kg_per_kwh")):
            if row[field] is None:
                continue
            v = after.get(f'{name}{{province="{row["key"]}"}}')
            if not api_close(v, row[field]):
                fails.append(f"{name} {row['key']}: /metrics {v}, /v1/aggregates {field} {row[field]}")
    # 3. The recording rules produce series with the API's values.
    rec = prom_query(prom, "province:gridcarbon_intensity_kg_per_kwh:last_hour")
    for row in last:
        if row["intensity_kg_per_kwh"] is not None:
            v = rec.get((("province", row["key"]),))
            if not api_close(v, row["intensity_kg_per_kwh"]):
                fails.append(f"province:gridcarbon_intensity_kg_per_kwh:last_hour {row['key']}: {v}, API {row['intensity_kg_per_kwh']}")
    national = json.loads(national_body)["windows"][-1]["rows"]
    nat = prom_query(prom, "national:gridcarbon_intensity_kg_per_kwh:last_hour")
    if len(national) != 1 or len(nat) != 1 or not api_close(list(nat.values())[0], national[0]["intensity_kg_per_kwh"]):
        fails.append(f"national:gridcarbon_intensity_kg_per_kwh:last_hour {nat}, API national row {national}")
    rate = prom_query(prom, "province:gridcarbon_emissions_kg:rate1h")
    if len(rate) != 31 or not any(v > 0 for v in rate.values()):
        fails.append(f"province:gridcarbon_emissions_kg:rate1h: {len(rate)} series, none > 0: {rate}")
    for q in ("national:gridcarbon_emissions_kg:rate1h", "province:gridcarbon_energy_kwh:rate1h", "province:gridcarbon_emissions_today_kg:sum"):
        if not prom_query(prom, q):
            fails.append(f"{q}: no series")
    summed = prom_query(prom, "province:gridcarbon_emissions_today_kg:sum")
    for key, co2 in today.items():
        v = summed.get((("province", key),))
        if not api_close(v, co2):
            fails.append(f"province:gridcarbon_emissions_today_kg:sum {key}: {v}, /v1/totals {co2}")
    return fails

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=os.path.join(ROOT, ".build/debug/gridcarbon"))
    ap.add_argument("--prometheus", default=shutil.which("prometheus") or "/usr/bin/prometheus")
    ap.add_argument("--promtool", default=shutil.which("promtool") or "/usr/bin/promtool")
    ap.add_argument("--meters", type=int, default=200)
    args = ap.parse_args()
    for tool in (args.bin, args.prometheus, args.promtool):
        if not os.access(tool, os.X_OK):
            raise SystemExit(f"FAIL: {tool} missing (make deps installs prometheus; swift build makes the binary)")

    # 1. The rules, statically and unit-tested.
    run([args.promtool, "check", "rules", "gridcarbon.rules.yml"], cwd=PROM_DIR)
    run([args.promtool, "test", "rules", "gridcarbon.rules.test.yml"], cwd=PROM_DIR)

    tmp = tempfile.mkdtemp(prefix="gridcarbon-prometheus-")
    procs = []
    try:
        example = os.path.join(tmp, "example")
        os.mkdir(example)
        for f in ("prometheus.example.yml", "gridcarbon.rules.yml"):
            shutil.copy(os.path.join(PROM_DIR, f), example)
        with open(os.path.join(example, "gridcarbon.token"), "w") as f:
            f.write(READ_TOKEN + "\n")
        run([args.promtool, "check", "config", os.path.join(example, "prometheus.example.yml")])

        # 2. The daemon, tokens on, and Prometheus scraping it.
        now = datetime.datetime.now(datetime.timezone.utc)
        registry, lines, count = simulated_lines(args.bin, tmp, args.meters, now)
        tokens = os.path.join(tmp, "tokens")
        with open(tokens, "w") as f:
            f.write(f"# role token\nread {READ_TOKEN}\ningest {INGEST_TOKEN}\n")
        tcp, http_port, prom_port = free_port(), free_port(), free_port()
        base, prom = f"http://127.0.0.1:{http_port}", f"http://127.0.0.1:{prom_port}"
        daemon_log = open(os.path.join(tmp, "daemon.log"), "w")
        daemon = subprocess.Popen([args.bin, "serve", "--registry", registry, "--data", os.path.join(tmp, "data"),
                                   "--tcp", f"127.0.0.1:{tcp}", "--http", f"127.0.0.1:{http_port}", "--tokens", tokens,
                                   "--idle-timeout", "10m"], stdout=daemon_log, stderr=subprocess.STDOUT)
        procs.append((daemon, "gridcarbon"))
        wait_port(http_port, daemon, "gridcarbon", daemon_log.name)
        status, _ = http(base + "/metrics")
        if status != 401:
            raise SystemExit(f"FAIL: /metrics without a token answered {status}, not 401: tokens are not on")
        if http(base + "/metrics", INGEST_TOKEN)[0] != 403:
            raise SystemExit("FAIL: /metrics with an ingest-only token is not 403")
        prom_log = open(os.path.join(tmp, "prometheus.log"), "w")
        prometheus = subprocess.Popen([args.prometheus, "--config.file", prometheus_config(tmp, http_port),
                                       "--storage.tsdb.path", os.path.join(tmp, "tsdb"), "--web.listen-address", f"127.0.0.1:{prom_port}"],
                                      stdout=prom_log, stderr=subprocess.STDOUT)
        procs.append((prometheus, "prometheus"))
        wait_port(prom_port, prometheus, "prometheus", prom_log.name)
        deadline = time.time() + 60
        while http(prom + "/-/ready")[0] != 200:
            if prometheus.poll() is not None or time.time() > deadline:
                raise SystemExit(f"FAIL: prometheus not ready; see {prom_log.name}")
            time.sleep(0.2)
        print(f"daemon pid {daemon.pid} http {http_port}; prometheus pid {prometheus.pid} on {prom_port}; {count} simulated lines", flush=True)

        # The target is up (the bearer token was taken) before any line goes in, so the counters'
        # first samples are from before their increase.
        deadline = time.time() + 30
        while prom_query(prom, 'up{job="gridcarbon"}') != {(): 1.0}:
            if time.time() > deadline:
                raise SystemExit(f"FAIL: the gridcarbon target is not up: {http(prom + '/api/v1/targets')[1][:500]!r}")
            time.sleep(0.5)

        # Feed the lines in pieces, so the counters move between scrapes.
        pieces = lines.split(b"\n")
        step = max(1, len(pieces) // 4)
        accepted, answers = 0, {}
        for i in range(0, len(pieces), step):
            body = b"\n".join(pieces[i:i + step]) + b"\n"
            status, answer = http(base + "/v1/records", INGEST_TOKEN, body=body, method="POST")
            if status != 200:
                raise SystemExit(f"FAIL: POST /v1/records {status} {answer[:300]!r}")
            for k, v in json.loads(answer).items():
                if isinstance(v, int):
                    answers[k] = answers.get(k, 0) + v
            accepted = answers.get("accepted", 0)
            time.sleep(1.5)
        print(f"{count} lines sent: {answers}", flush=True)
        if accepted == 0:
            raise SystemExit("FAIL: the daemon accepted no line")

        # The lines close their windows (the watermark follows them, 15 min behind the newest; the
        # idle timeout is long so it does not jump to the wall clock before the lines are in).
        deadline = time.time() + 60
        while True:
            _, body = http(base + "/v1/aggregates?window=1h&level=province", READ_TOKEN)
            if json.loads(body)["windows"] and metrics(base).get('gridcarbon_records_total{outcome="accepted"}', 0) >= accepted:
                break
            if time.time() > deadline:
                raise SystemExit("FAIL: no 1h window closed within 60 s")
            time.sleep(0.5)

        # 3. Prometheus answers what the daemon says.
        for attempt in range(10):
            fails = compare_once(base, prom)
            if fails is not None:
                break
            print("a window closed during the comparison: again", flush=True)
        else:
            fails = ["the daemon's carbon metrics kept changing: no stable comparison in 10 rounds"]
        _, rules_body = http(prom + "/api/v1/rules")
        rules = [r for g in json.loads(rules_body)["data"]["groups"] for r in g["rules"]]
        if len(rules) < 12:
            fails.append(f"{len(rules)} rules loaded, expected 12")
        for r in rules:
            if r.get("health") != "ok":
                fails.append(f"rule {r.get('name')}: health {r.get('health')} {r.get('lastError')}")
        alerts = [(r["name"], r["state"]) for r in rules if r["type"] == "alerting" and r["state"] != "inactive"]
        print(f"rules: {len(rules)} evaluated ok; alerts not inactive: {alerts}", flush=True)
        today = prom_query(prom, "province:gridcarbon_emissions_today_kg:sum")
        print(f"today (Prometheus): {sum(today.values()):.3f} kg over {sum(1 for v in today.values() if v > 0)} provinces; "
              f"national intensity last hour {prom_query(prom, 'national:gridcarbon_intensity_kg_per_kwh:last_hour')}", flush=True)

        code = stop(daemon, "gridcarbon")
        if code != 0:
            fails.append(f"gridcarbon exited {code}")
        stop(prometheus, "prometheus")
        if fails:
            print("FAIL:\n  " + "\n  ".join(fails))
            print(f"logs kept in {tmp}")
            tmp = None
            sys.exit(1)
        print("PASS: prometheus scraped the daemon with a read token; carbon gauges equal /metrics and the API; recording rules produce series")
    finally:
        for p, what in procs:
            stop(p, what)
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)

if __name__ == "__main__":
    main()
