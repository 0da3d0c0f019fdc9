#!/usr/bin/env python3
"""Scale-out test (reference §8) with real nats-server processes, real workers and a real merger.

For each partition count P: a fresh JetStream (one node, or with --cluster a 3-node cluster on
loopback with streams replicated 3 times), `gridcarbon publish` of a simulated fleet in chunks,
workers (`serve --nats --partitions`, the partitions dealt over --workers processes) and a merger
(`serve --nats --merge`). With --gateway, the chunks after the first go through a gateway
(`serve --nats` alone) over TCP instead, each followed by `!sync` and its `ok`. With --kills N,
between chunks it kills with SIGKILL a worker, the merger, the gateway or (with --cluster) a
nats-server node, at random, and restarts it. At the end the merger's
aggregate files must be byte-identical to `gridcarbon replay` of the same records, and its alert
log (intensity, budget and forecast rules) must hold replay's events, each once, in seq order.

    scripts/scale-out-test.py [--partitions 1,2,4] [--workers 2] [--cluster] [--gateway] [--kills 0] [--meters 300]
                              [--bin .build/debug/gridcarbon] [--seed N] [--keep]
"""
import argparse, json, os, random, shutil, signal, socket, subprocess, sys, tempfile, time, urllib.request
from testkit import aggregates, alert_log, free_port, wait_port

class Nats:
    """One nats-server node (JetStream on), optionally part of a cluster."""
    def __init__(self, work, name, port, cluster_port=None, routes=()):
        self.work, self.name, self.port, self.cluster_port, self.routes = work, name, port, cluster_port, routes
        self.proc = None
        self.start()

    def start(self):
        if shutil.which("nats-server") is None:
            raise SystemExit("scale-out-test: nats-server is missing: run scripts/install-deps.sh")
        args = ["nats-server", "-js", "-sd", f"{self.work}/{self.name}", "-p", str(self.port), "-a", "127.0.0.1",
                "--server_name", self.name]
        if self.cluster_port:
            args += ["--cluster_name", "gridcarbon", "--cluster", f"nats://127.0.0.1:{self.cluster_port}",
                     "--routes", ",".join(f"nats://127.0.0.1:{p}" for p in self.routes)]
        self.log = f"{self.work}/{self.name}.log"
        self.proc = subprocess.Popen(args, stdout=open(self.log, "ab"), stderr=subprocess.STDOUT)
        wait_port(self.port, self.proc, f"nats-server {self.name}", self.log)

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL); self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate(); self.proc.wait(timeout=30)

class Serve:
    """A worker (partitions given) or the merger (partitions None)."""
    def __init__(self, a, url, registry, data, config, partitions=None):
        self.a, self.url, self.registry, self.data, self.config, self.partitions = a, url, registry, data, config, partitions
        self.start()

    def start(self):
        self.http = free_port()
        args = [self.a.bin, "serve", "--nats", self.url, "--registry", self.registry, "--data", self.data,
                "--http", f"127.0.0.1:{self.http}", "--idle-timeout", self.a.idle_timeout,
                # Small segments and frequent checkpoints: kills land near rolls and checkpoints.
                "--wal-segment-bytes", "65536", "--checkpoint-bytes", "100000"]
        args += ["--partitions", ",".join(map(str, self.partitions))] if self.partitions is not None else ["--merge", "--config", self.config]
        self.log = self.data + ".log"
        self.proc = subprocess.Popen(args, stdout=open(self.log, "ab"), stderr=subprocess.STDOUT)
        wait_port(self.http, self.proc, "worker" if self.partitions is not None else "merger", self.log)

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL); self.proc.wait()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=120)

class Gateway:
    """`serve --nats URL` alone: chunks sent to it over TCP are in the stream once it says ok."""
    def __init__(self, a, url, data):
        self.a, self.url, self.data = a, url, data
        self.start()

    def start(self):
        self.tcp, self.http = free_port(), free_port()
        self.log = self.data + ".log"
        self.proc = subprocess.Popen([self.a.bin, "serve", "--nats", self.url, "--data", self.data,
                                      "--tcp", f"127.0.0.1:{self.tcp}", "--http", f"127.0.0.1:{self.http}"],
                                     stdout=open(self.log, "ab"), stderr=subprocess.STDOUT)
        wait_port(self.tcp, self.proc, "gateway", self.log)

    def send(self, path):
        """Sends a file's lines, then `!sync`; the answer (`ok <forwarded> <rejected>`)."""
        with socket.create_connection(("127.0.0.1", self.tcp), timeout=120) as c:
            c.sendall(open(path, "rb").read() + b"!sync\n")
            return c.makefile("rb").readline().decode().strip()

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL); self.proc.wait()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=120)

ALERTS = {"alerts": {"budgets": "budgets.csv", "rules": [
    {"name": "hot", "kind": "intensity", "level": "province", "window": "1h", "threshold": 0.62},
    {"name": "budget", "kind": "budget", "warn_ratio": 0.5},
    {"name": "forecast", "kind": "forecast", "lookback": "2h"},
]}}

def scrape(port):
    """A process's /metrics as {series: value}."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    return {l.rsplit(" ", 1)[0]: float(l.rsplit(" ", 1)[1]) for l in text.splitlines() if l and not l.startswith("#")}

def conventions(port, what):
    """docs/metrics.md: every gridcarbon_ family of a process's /metrics has # HELP and # TYPE, and
    counters, only they, end in _total. None if so."""
    lines = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode().splitlines()
    for i, l in enumerate(lines):
        if l.startswith("# TYPE gridcarbon_"):
            _, _, name, kind = l.split(" ", 3)
            if i == 0 or not lines[i - 1].startswith(f"# HELP {name} "):
                return f"{what} metrics: {name} has no # HELP"
            if (kind == "counter") != name.endswith("_total"):
                return f"{what} metrics: {name} is a {kind} (counters, and only they, end in _total)"
    return None

def check_metrics(workers, merger, P):
    """What an operator watches (docs/scale-out.md): per worker partition lag, fetch batch sizes and
    redeliveries; at the merger every partition's progress and nothing waiting. None if all is there."""
    for w in workers:
        m = scrape(w.http)
        for p in w.partitions:
            for series in (f'gridcarbon_partition_lag_messages{{partition="{p}"}}', f'gridcarbon_redeliveries_total{{partition="{p}"}}',
                           f'gridcarbon_fetch_batch_messages_count{{partition="{p}"}}', f'gridcarbon_stream_sequence_applied{{partition="{p}"}}'):
                if series not in m:
                    return f"worker metrics lack {series}"
            if m[f'gridcarbon_stream_sequence_applied{{partition="{p}"}}'] <= 0:
                return f"worker of partition {p} reports nothing applied"
    for port, what in [(w.http, "worker") for w in workers] + [(merger.http, "merger")]:
        problem = conventions(port, what)
        if problem:
            return problem
    m = scrape(merger.http)
    for p in range(P):
        if m.get(f'gridcarbon_merge_closed_before_timestamp_seconds{{partition="{p}"}}', 0) <= 0:
            return f"merger metrics: no progress for partition {p}"
    if m.get("gridcarbon_merge_pending_slots") != 0 or m.get("gridcarbon_merge_refused_batches_total") != 0:
        return f"merger metrics: slots pending {m.get('gridcarbon_merge_pending_slots')}, refused {m.get('gridcarbon_merge_refused_batches_total')}"
    return None

def run_one(a, rng, work, P, chunks, registry, config, ref, ref_alerts):
    base = f"{work}/P{P}"
    os.makedirs(base)
    if a.cluster:
        ports, cports = [free_port() for _ in range(3)], [free_port() for _ in range(3)]
        nodes = [Nats(base, f"n{i}", ports[i], cports[i], [cports[j] for j in range(3) if j != i]) for i in range(3)]
        replicas = 3
    else:
        nodes = [Nats(base, "n0", free_port())]
        replicas = 1
    url = ",".join(f"nats://127.0.0.1:{n.port}" for n in nodes)
    procs = []
    try:
        # The streams first (P and R fixed here), then the consumers.
        for attempt in range(60):
            r = subprocess.run([a.bin, "publish", "--nats", url, "--partitions", str(P), "--replicas", str(replicas),
                                "--data", f"{base}/publish", chunks[0]], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            if r.returncode == 0:
                break
            time.sleep(0.5)   # a fresh cluster elects its JetStream leader first
        else:
            raise SystemExit(f"scale-out-test: publish failed: {r.stdout.decode()[-500:]}")
        parts = list(range(P))
        deal = [parts[i::a.workers] for i in range(min(a.workers, P))]
        workers = [Serve(a, url, registry, f"{base}/worker{i}", config, d) for i, d in enumerate(deal)]
        merger = Serve(a, url, registry, f"{base}/merged", config)
        gateway = Gateway(a, url, f"{base}/gateway") if a.gateway else None
        procs = workers + [merger] + ([gateway] if gateway else [])
        kills = []
        for k, chunk in enumerate(chunks[1:], start=1):
            if a.kills and rng.random() < a.kills / max(1, len(chunks) - 1) * 1.5 and len(kills) < a.kills:
                targets = ["worker", "merger"] + (["nats"] if a.cluster else []) + (["gateway"] if gateway else [])
                what = rng.choice(targets)
                time.sleep(rng.uniform(0, 0.4))
                if what == "worker":
                    w = rng.choice(workers); w.kill9(); w.start()
                elif what == "merger":
                    merger.kill9(); merger.start()
                elif what == "gateway":
                    gateway.kill9(); gateway.start()
                else:
                    n = rng.choice(nodes); n.kill9(); time.sleep(rng.uniform(0.2, 1.0)); n.start()
                kills.append(what)
            if gateway:
                answer = gateway.send(chunk)
                if not answer.startswith("ok "):
                    raise SystemExit(f"scale-out-test: the gateway answered chunk {k} with {answer!r}; see {gateway.log}")
                continue
            r = subprocess.run([a.bin, "publish", "--nats", url, "--data", f"{base}/publish", chunk], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            if r.returncode != 0:
                raise SystemExit(f"scale-out-test: publish of chunk {k} failed: {r.stdout.decode()[-500:]}")
        # The idle ticks close the last windows; wait until the merger has replay's files.
        deadline = time.time() + 120
        while time.time() < deadline:
            got = aggregates(f"{base}/merged")
            if got == ref:
                break
            time.sleep(0.3)
        got = aggregates(f"{base}/merged")
        missing = sorted(set(ref) - set(got)); extra = sorted(set(got) - set(ref))
        differ = sorted(k for k in ref if k in got and got[k] != ref[k])
        alerts = alert_log(f"{base}/merged")
        metrics_problem = check_metrics(workers, merger, P)
        if got != ref:
            # For the post-mortem: what every process reported when the wait gave up.
            with open(f"{base}/metrics-at-end.txt", "w") as out:
                for proc in workers + [merger]:
                    try:
                        m = scrape(proc.http)
                    except OSError as e:
                        m = {"unreachable": str(e)}
                    out.write(f"== {proc.log}\n" + "".join(f"{k} {v}\n" for k, v in sorted(m.items()) if "merge" in k or "partition" in k or "records_total" in k))
        codes = [p.stop() for p in procs]
        procs = []
        kinfo = f", kills: {', '.join(kills)}" if kills else ""
        stalls = sum(open(p.log, "rb").read().count(b"re-creating it") for p in workers + [merger])
        kinfo += f", stalled consumers re-created: {stalls}" if stalls else ""
        if missing or extra or differ:
            print(f"scale-out-test: FAIL P={P}: {len(missing)} files missing, {len(extra)} extra, {len(differ)} differ; e.g. {(missing + extra + differ)[:3]}{kinfo}")
            return False
        if alerts != ref_alerts or not ref_alerts:
            print(f"scale-out-test: FAIL P={P}: alert logs differ ({len(alerts.splitlines())} events, replay {len(ref_alerts.splitlines())}){kinfo}")
            return False
        if metrics_problem:
            print(f"scale-out-test: FAIL P={P}: {metrics_problem}")
            return False
        if any(c != 0 for c in codes):
            print(f"scale-out-test: FAIL P={P}: exit statuses {codes}")
            return False
        print(f"scale-out-test: P={P}, {len(deal)} workers{' on a 3-node cluster, R3' if a.cluster else ''}{', through a gateway' if gateway else ''}: {len(ref)} aggregate files and "
              f"{len(ref_alerts.splitlines())} alert events identical to replay{kinfo}")
        return True
    finally:
        for p in procs:
            if p.proc.poll() is None: p.kill9()
        for n in nodes: n.stop()

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--partitions", default="1,2,4")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--cluster", action="store_true")
    ap.add_argument("--gateway", action="store_true", help="send the chunks after the first through a gateway over TCP")
    ap.add_argument("--kills", type=int, default=0)
    ap.add_argument("--meters", type=int, default=300)
    ap.add_argument("--chunks", type=int, default=8)
    ap.add_argument("--bin", default=".build/debug/gridcarbon")
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--idle-timeout", default=None,
                    help="the workers' idle_timeout (default 1s; 15s with --kills or --cluster). Idle ticks move the "
                         "watermark to the wall clock, and the simulated days are in the past: a pause in publishing "
                         "longer than this (a restart, a cluster electing a leader) would make the rest late")
    a = ap.parse_args()
    a.idle_timeout = a.idle_timeout or ("15s" if a.kills or a.cluster else "1s")
    a.bin = os.path.abspath(a.bin)
    rng = random.Random(a.seed)
    work = tempfile.mkdtemp(prefix="gridcarbon-scaleout-")
    ok = False
    try:
        # Two days ago: the workers' idle ticks (wall clock) close every window of it.
        start = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 8 * 3600 - 2 * 86400))
        subprocess.run([a.bin, "simulate", "--meters", str(a.meters), "--start", start, "--seed", str(a.seed % 100000),
                        "--disorder", "300", "--jitter", "60", "--duplicates", "0.002", "--resets", "0.0005",
                        "--bad-lines", "0.001", "--interval-share", "0.1", "--mixed-timestamps", "--out", f"{work}/sim"],
                       check=True, stderr=subprocess.DEVNULL)
        lines = open(f"{work}/sim/records.csv", "rb").read().splitlines(keepends=True)
        size = max(1, -(-len(lines) // a.chunks))
        chunks = []
        for i in range(0, len(lines), size):
            path = f"{work}/sim/chunk-{i // size:03d}.csv"
            open(path, "wb").write(b"".join(lines[i:i + size])); chunks.append(path)
        config = f"{work}/alerts.json"
        json.dump(ALERTS, open(config, "w"))
        with open(f"{work}/budgets.csv", "w") as f:
            f.write("level,key,period,budget_kg\nnational,CN,day,20000\nprovince,CN-GD,day,1500\nprovince,CN-JS,day,1500\nprovince,CN-SD,month,5000\n")
        registry = f"{work}/sim/registry.csv"
        subprocess.run([a.bin, "replay", "--registry", registry, "--data", f"{work}/replay", "--config", config,
                        "--no-progress", "--no-fsync", f"{work}/sim/records.csv"], check=True, stdout=subprocess.DEVNULL)
        ref, ref_alerts = aggregates(f"{work}/replay"), alert_log(f"{work}/replay")
        results = [run_one(a, rng, work, int(P), chunks, registry, config, ref, ref_alerts) for P in a.partitions.split(",")]
        ok = all(results)
        print(f"scale-out-test: {sum(results)} passed, {len(results) - sum(results)} failed (seed {a.seed})")
    finally:
        if ok and not a.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"scale-out-test: work folder kept: {work}")
    sys.exit(0 if ok else 1)

if __name__ == "__main__":
    main()
