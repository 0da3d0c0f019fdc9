#!/usr/bin/env python3
"""Scale-out throughput (reference §8, docs/scale-out.md) on this machine, with a release binary built
elsewhere (this script builds nothing). Prints the figures of the scale-out issue:

  1. `gridcarbon publish` into a single-node JetStream, and into a 3-node cluster on loopback
     (streams replicated 3 times): record lines / wall time of the publish process (stream
     creation included), the stream holding P=2 meter partitions;
  2. one worker (`serve --nats --partitions 0,1`) consuming the pre-filled single-node stream:
     meter record lines / time until both its consumers are caught up, from the process start
     (startup included) and from its /readyz (consumers made, registry loaded);
  3. two workers (one per partition) against one on both partitions, on the same stream: the ratio.

The feed is `gridcarbon simulate`'s fleet as collectors send it: arrival order (up to 5 minutes
late), readings up to a minute off the quarter hour, timestamps in three spellings; a day of
100,000 meters at 15-minute reads is 9.6 M lines. "Caught up" for a worker is: every partition's
last fetch had nothing pending behind it (/metrics, gridcarbon_partition_lag_messages = 0) and the
server's acknowledgement floor of that partition's consumer (nats-server's /jsz) has reached the
sequence the worker applied last (/metrics, gridcarbon_stream_sequence_applied): a worker
acknowledges a batch once it is in its write-ahead log (fsync per batch, the default).

    Benchmarks/scale-out-throughput.py --bin .build/release/gridcarbon [--meters 100000] [--runs 3]
                                       [--publish-runs 2] [--no-cluster] [--work DIR] [--keep]

Needs nats-server (scripts/install-deps.sh). Every process it starts is stopped by its own pid.
"""
import argparse, json, os, shutil, signal, socket, statistics, subprocess, sys, tempfile, time, urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
from testkit import free_port, wait_port  # noqa: E402

def max_rss_mib(pid):
    """A process's peak resident memory (VmHWM), MiB."""
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def get(url, timeout=2.0):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read().decode()

def nats_binary():
    for c in (shutil.which("nats-server"), "/usr/sbin/nats-server"):
        if c and os.path.exists(c):
            return c
    raise SystemExit("scale-out-throughput: nats-server is missing: run scripts/install-deps.sh")

class Nats:
    """One nats-server node with JetStream and its monitoring port, optionally in a cluster."""
    def __init__(self, work, name, cluster_port=None, routes=()):
        self.port, self.mport = free_port(), free_port()
        self.dir, self.log = f"{work}/{name}", f"{work}/{name}.log"
        args = [nats_binary(), "-js", "-sd", self.dir, "-p", str(self.port), "-a", "127.0.0.1", "-m", str(self.mport),
                "--server_name", name]
        if cluster_port:
            args += ["--cluster_name", "gridcarbon-bench", "--cluster", f"nats://127.0.0.1:{cluster_port}",
                     "--routes", ",".join(f"nats://127.0.0.1:{p}" for p in routes)]
        self.proc = subprocess.Popen(args, stdout=open(self.log, "ab"), stderr=subprocess.STDOUT)
        wait_port(self.port, self.proc, f"nats-server {name}", self.log)
        wait_port(self.mport, self.proc, f"nats-server {name} monitoring", self.log)

    def jsz(self, query=""):
        return json.loads(get(f"http://127.0.0.1:{self.mport}/jsz{query}")[1])

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try: self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired: self.proc.kill(); self.proc.wait()

def start_nats(work, cluster):
    if not cluster:
        return [Nats(work, "n0")]
    cports = [free_port() for _ in range(3)]
    nodes = []
    try:
        for i in range(3):
            nodes.append(Nats(work, f"n{i}", cports[i], [cports[j] for j in range(3) if j != i]))
        # A cluster elects its JetStream meta leader first: wait for it, so publish's time is its own.
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if all(n.jsz().get("meta_cluster", {}).get("leader") for n in nodes):
                    return nodes
            except OSError:
                pass
            time.sleep(0.1)
        raise SystemExit("scale-out-throughput: the cluster elected no JetStream leader in 60 s")
    except BaseException:
        for n in nodes: n.stop()
        raise

def publish(a, nodes, records, data, replicas):
    url = ",".join(f"nats://127.0.0.1:{n.port}" for n in nodes)
    args = [a.bin, "publish", "--nats", url, "--partitions", "2", "--replicas", str(replicas), "--data", data, "--no-progress", records]
    s = time.monotonic()
    r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    e = time.monotonic()
    out = r.stdout.decode()
    if r.returncode != 0:
        raise SystemExit(f"scale-out-throughput: publish failed ({r.returncode}): {out[-800:]}")
    return e - s, out

def cpu_seconds(pid):
    """User + system CPU time of a live process (and its reaped children), in seconds."""
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return sum(int(x) for x in f[11:15]) / os.sysconf("SC_CLK_TCK")

def metric(text, name, partition):
    key = f'{name}{{partition="{partition}"}}'
    for line in text.splitlines():
        if line.startswith(key + " "):
            return float(line.split()[-1])
    return None

class Worker:
    def __init__(self, a, node, registry, data, partitions):
        self.partitions, self.http = partitions, free_port()
        self.log = data + ".log"
        args = [a.bin, "serve", "--nats", f"nats://127.0.0.1:{node.port}", "--partitions", ",".join(map(str, partitions)),
                "--registry", registry, "--data", data, "--http", f"127.0.0.1:{self.http}"]
        self.started = time.monotonic()
        self.proc = subprocess.Popen(args, stdout=open(self.log, "ab"), stderr=subprocess.STDOUT)
        self.ready = None
        self.done = None

    def poll(self, node):
        """Marks readiness and completion; returns True once caught up."""
        if self.proc.poll() is not None:
            raise SystemExit(f"scale-out-throughput: worker exited {self.proc.returncode}; see {self.log}")
        try:
            if self.ready is None:
                if get(f"http://127.0.0.1:{self.http}/readyz", 0.5)[0] == 200:
                    self.ready = time.monotonic()
                return False
            t = time.monotonic()
            text = get(f"http://127.0.0.1:{self.http}/metrics", 2.0)[1]
        except OSError:
            return False
        applied = {}
        for p in self.partitions:
            lag, seq = metric(text, "gridcarbon_partition_lag_messages", p), metric(text, "gridcarbon_stream_sequence_applied", p)
            if lag is None or seq is None or lag != 0 or seq == 0:
                return False
            applied[p] = int(seq)
        floors = {c["name"]: c["ack_floor"]["stream_seq"] for s in node.jsz("?accounts=true&streams=true&consumers=true")["account_details"][0]["stream_detail"]
                  for c in s.get("consumer_detail", [])}
        if all(floors.get(f"gridcarbon-partition-{p}", 0) >= applied[p] for p in self.partitions):
            self.done = t
            return True
        return False

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try: self.proc.wait(timeout=120)
            except subprocess.TimeoutExpired: self.proc.kill(); self.proc.wait()

def run_workers(a, node, registry, work, deal, lines, tag):
    """Starts one worker per entry of `deal` at once; waits until each is caught up."""
    nats_cpu = cpu_seconds(node.proc.pid)
    ws = [Worker(a, node, registry, f"{work}/{tag}-w{i}", d) for i, d in enumerate(deal)]
    try:
        deadline = time.monotonic() + 600
        while not all(w.done for w in ws):
            if time.monotonic() > deadline:
                raise SystemExit(f"scale-out-throughput: workers not caught up in 10 minutes; see {ws[0].log}")
            for w in ws:
                if not w.done: w.poll(node)
            time.sleep(0.01)
        start, ready, done = min(w.started for w in ws), max(w.ready for w in ws), max(w.done for w in ws)
        # Where the 2 cores went: the workers' CPU time and the server's, against the wall time.
        cpu = f"CPU {sum(cpu_seconds(w.proc.pid) for w in ws):.1f} s worker, {cpu_seconds(node.proc.pid) - nats_cpu:.1f} s nats-server"
        cpu += ", max RSS " + " + ".join(f"{max_rss_mib(w.proc.pid):.0f} MiB" for w in ws)
        fetch, outcomes = [], {}
        for w in ws:
            text = get(f"http://127.0.0.1:{w.http}/metrics")[1]
            for o in ("accepted", "duplicate", "rejected", "late"):
                for l in text.splitlines():
                    if l.startswith(f'gridcarbon_records_total{{outcome="{o}"}} '):
                        outcomes[o] = outcomes.get(o, 0) + int(float(l.split()[-1]))
            for p in w.partitions:
                s, c = metric(text, "gridcarbon_fetch_batch_messages_sum", p), metric(text, "gridcarbon_fetch_batch_messages_count", p)
                if s is not None and c: fetch.append(f"p{p} {int(c)} fetches of {s / c:.0f} messages")
        # Every line of the partitions went through an engine (accepted, duplicate, rejected or late).
        if sum(outcomes.values()) != lines:
            raise SystemExit(f"scale-out-throughput: the workers counted {outcomes}, not {lines:,} lines")
        return done - start, done - ready, cpu + "; " + ", ".join(fetch) + "; " + ", ".join(f"{v:,} {k}" for k, v in outcomes.items() if v)
    finally:
        for w in ws: w.stop()

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.environ.get("GRIDCARBON_BIN"), help="release gridcarbon binary")
    ap.add_argument("--meters", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3, help="runs of each worker figure")
    ap.add_argument("--publish-runs", type=int, default=2, help="runs of each publish figure (a fresh server each)")
    ap.add_argument("--no-cluster", action="store_true")
    ap.add_argument("--work", default=None)
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    if not a.bin:
        raise SystemExit("scale-out-throughput: give --bin PATH (or GRIDCARBON_BIN) of a release build")
    a.bin = os.path.abspath(a.bin)
    work = a.work or tempfile.mkdtemp(prefix="gridcarbon-scaleout-bench-")
    os.makedirs(work, exist_ok=True)
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    print(f"== machine: {os.cpu_count()} cores ({cpu}), {os.uname().release}, load {open('/proc/loadavg').read().split()[:3]}")
    single = None
    try:
        sim = f"{work}/sim"
        if not os.path.exists(f"{sim}/records.csv"):
            subprocess.run([a.bin, "simulate", "--meters", str(a.meters), "--start", "2026-11-18", "--seed", "11",
                            "--disorder", "300", "--jitter", "60", "--mixed-timestamps", "--out", sim],
                           check=True, stderr=subprocess.DEVNULL)
        records, registry = f"{sim}/records.csv", f"{sim}/registry.csv"
        lines = sum(1 for _ in open(records, "rb"))
        print(f"== feed: {lines:,} lines ({os.path.getsize(records) / 1e6:.0f} MB), {a.meters:,} meters, one day; "
              f"simulate --disorder 300 --jitter 60 --mixed-timestamps")

        meter_lines = None
        for cluster in ([False] if a.no_cluster else [False, True]):
            what = "3-node cluster, R3" if cluster else "single node, R1"
            times = []
            for i in range(a.publish_runs):
                base = f"{work}/{'cluster' if cluster else 'single'}-{i}"
                shutil.rmtree(base, ignore_errors=True); os.makedirs(base)
                nodes = start_nats(base, cluster)
                # The last single-node stream stays up, pre-filled, for the workers.
                keep = not cluster and i == a.publish_runs - 1
                try:
                    secs, out = publish(a, nodes, records, f"{base}/publish", 3 if cluster else 1)
                    times.append(secs)
                    for l in out.splitlines():
                        if l.strip().startswith("meter partitions"): meter_lines = int(l.split()[-1].replace(",", ""))
                    print(f"   publish run {i + 1} ({what}): {secs:.2f} s wall = {lines / secs / 1e3:.0f} k lines/s; publish says: {out.splitlines()[0]}")
                finally:
                    if keep: single = nodes
                    else:
                        for n in nodes: n.stop()
                        shutil.rmtree(base, ignore_errors=True)
            m = statistics.median(times)
            print(f"== publish, {what}, P=2: median of {len(times)} {m:.2f} s = {lines / m / 1e3:.0f} k lines/s "
                  f"(best {lines / min(times) / 1e3:.0f} k lines/s)")

        node = single[0]
        try:
            print(f"== workers on the pre-filled single-node stream: {meter_lines:,} meter record lines in partitions 0 and 1")
            results = {"one": [], "two": []}
            # Interleaved: one worker, then two, `runs` times, so a change in the machine's load
            # touches both alike.
            for r in range(a.runs):
                for tag, deal in (("one", [[0, 1]]), ("two", [[0], [1]])):
                    total, after_ready, fetch = run_workers(a, node, registry, work, deal, meter_lines, f"{tag}-{r}")
                    results[tag].append((total, after_ready))
                    print(f"   {tag} worker{'s' if tag == 'two' else ''} run {r + 1}: {total:.2f} s from start = {meter_lines / total / 1e6:.2f} M lines/s; "
                          f"{after_ready:.2f} s from ready = {meter_lines / after_ready / 1e6:.2f} M lines/s ({fetch})")
                    shutil.rmtree(f"{work}/{tag}-{r}-w0", ignore_errors=True); shutil.rmtree(f"{work}/{tag}-{r}-w1", ignore_errors=True)
            med = {t: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v)) for t, v in results.items()}
            for t, label in (("one", "one worker, partitions 0,1"), ("two", "two workers, one partition each")):
                print(f"== {label}: median of {a.runs}: {meter_lines / med[t][0] / 1e6:.2f} M lines/s from start, "
                      f"{meter_lines / med[t][1] / 1e6:.2f} M lines/s from ready")
            print(f"== two workers / one worker: {med['one'][0] / med['two'][0]:.2f}x from start, {med['one'][1] / med['two'][1]:.2f}x from ready")
        finally:
            node.stop()
    finally:
        for n in single or []: n.stop()   # also when a run failed
        if not a.keep and not a.work:
            shutil.rmtree(work, ignore_errors=True)
        elif a.keep:
            print(f"scale-out-throughput: work folder kept: {work}")

if __name__ == "__main__":
    main()
