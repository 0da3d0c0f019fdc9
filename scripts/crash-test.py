#!/usr/bin/env python3
"""Crash test for `gridcarbon serve` (reference §6 durability).

Streams a simulated fleet into a real daemon over TCP in chunks, each closed by `!sync`; kills the
daemon with SIGKILL at random moments; restarts it and resends every chunk that was not
acknowledged (re-sent lines come back as duplicates or late, and change nothing). At the end the
daemon's aggregate files must be byte-identical to a `gridcarbon replay` of the same records, and
its alert log (rules for intensity, budgets, forecasts and data quality) must hold the same events
as the replay's: each once, in the same seq order, with the same bytes.

    scripts/crash-test.py [--kills 3] [--meters 300] [--bin .build/debug/gridcarbon] [--seed N]
"""
import argparse, datetime, os, random, shutil, signal, socket, subprocess, sys, tempfile, time
from testkit import aggregates, alert_log, free_port, wait_port

class Daemon:
    def __init__(self, binary, registry, data, idle, config):
        self.tcp, self.http = free_port(), free_port()
        self.log = open(data + ".log", "ab")
        self.proc = subprocess.Popen([binary, "serve", "--registry", registry, "--data", data, "--config", config,
                                      "--tcp", f"127.0.0.1:{self.tcp}", "--http", f"127.0.0.1:{self.http}",
                                      "--idle-timeout", idle,
                                      # Small segments and frequent checkpoints: every kill lands near a
                                      # segment roll, a checkpoint or a log truncation.
                                      "--wal-segment-bytes", "65536", "--checkpoint-bytes", "200000"],
                                     stdout=self.log, stderr=self.log)
        for port in (self.tcp, self.http):
            wait_port(port, self.proc, "crash-test: daemon", data + ".log")

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL); self.proc.wait()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=120)

def send_chunks(daemon, chunks, start, kill_after=None):
    """Sends chunks[start:] with !sync after each; returns the index of the first chunk not acknowledged."""
    sock = socket.create_connection(("127.0.0.1", daemon.tcp))
    f = sock.makefile("rb")
    acked = start
    killer_at = time.time() + kill_after if kill_after is not None else None
    try:
        for i in range(start, len(chunks)):
            sock.sendall(chunks[i] + b"!sync\n")
            if killer_at is not None and time.time() >= killer_at:
                daemon.kill9()
                return acked
            line = f.readline()
            if not line.startswith(b"ok "):
                return acked
            acked = i + 1
    except (BrokenPipeError, ConnectionResetError):
        return acked
    finally:
        sock.close()
    return acked

ALERTS = {"alerts": {"budgets": "budgets.csv", "rules": [
    {"name": "hot", "kind": "intensity", "level": "province", "window": "1h", "threshold": 0.62},
    {"name": "budget", "kind": "budget", "warn_ratio": 0.5},
    {"name": "forecast", "kind": "forecast", "lookback": "2h"},
    {"name": "quality", "kind": "data_quality", "window": "1h", "threshold": 1, "silent_after": "45m", "max_anomaly_rate": 0.002},
]}}

def with_dual_records(lines):
    """The simulated lines plus reference §9.1 records: after each generation (`m`) coal record, an
    exchange (`x`) to the next province with generation in the same interval (so the factors are
    flow-traced, §9.3), an output (`o`) and a contract (`c`) record."""
    regions = sorted({l.split(b",")[1] for l in lines if l.startswith(b"m,")})
    out = []
    for k, l in enumerate(lines):
        out.append(l)
        f = l.rstrip(b"\n").split(b",")
        if len(f) == 6 and f[0] == b"m" and f[4] == b"coal" and len(regions) > 1:
            to = regions[(regions.index(f[1]) + 1) % len(regions)]
            out.append(b"x,%s,%s,%s,%s,%d\n" % (f[1], to, f[2], f[3], 50 + k % 400))
            out.append(b"o,province,%s,%s,%s,%d,cny_10k\n" % (f[1], f[2], f[3], 1000 + k % 97))
            out.append(b"c,ENT-%d,%s,%s,%d,gpt\n" % (k % 5, f[2], f[3], k % 13))
    return out

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kills", type=int, default=3)
    ap.add_argument("--meters", type=int, default=300)
    ap.add_argument("--bin", default=".build/debug/gridcarbon")
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    work = tempfile.mkdtemp(prefix="gridcarbon-crash-")
    try:
        # Two days ago, so wall-clock watermark moves close every window of it.
        start = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 8 * 3600 - 2 * 86400))
        subprocess.run([a.bin, "simulate", "--meters", str(a.meters), "--start", start, "--seed", str(a.seed % 100000),
                        "--disorder", "300", "--jitter", "60", "--duplicates", "0.002", "--resets", "0.0005",
                        "--gaps", "0.0005", "--bad-lines", "0.001", "--interval-share", "0.1", "--out", f"{work}/sim"],
                       check=True, stderr=subprocess.DEVNULL)
        lines = with_dual_records(open(f"{work}/sim/records.csv", "rb").read().splitlines(keepends=True))
        open(f"{work}/sim/records.csv", "wb").write(b"".join(lines))   # replay reads the same lines
        size = max(100, len(lines) // 200)
        chunks = [b"".join(lines[i:i + size]) for i in range(0, len(lines), size)]
        data = f"{work}/serve"
        import json
        config = f"{work}/alerts.json"
        json.dump(ALERTS, open(config, "w"))
        with open(f"{work}/budgets.csv", "w") as f:
            f.write("level,key,period,budget_kg\nnational,CN,day,20000\nprovince,CN-GD,day,1500\nprovince,CN-JS,day,1500\nprovince,CN-SD,month,5000\n")
        acked, kills = 0, 0
        while kills < a.kills and acked < len(chunks):
            d = Daemon(a.bin, f"{work}/sim/registry.csv", data, "1h", config)
            kill_after = rng.uniform(0.05, 1.5)
            acked = send_chunks(d, chunks, acked, kill_after=kill_after)
            if d.proc.poll() is None:
                d.kill9()
            kills += 1
            print(f"crash-test: kill -9 #{kills} after {kill_after:.2f} s, {acked}/{len(chunks)} chunks acknowledged")
        # The last run: the rest of the records, then the wall-clock watermark closes every window.
        d = Daemon(a.bin, f"{work}/sim/registry.csv", data, "1s", config)
        acked = send_chunks(d, chunks, acked)
        assert acked == len(chunks), "the daemon stopped acknowledging"
        # Wait until no file has appeared for 2 s: longer than the 1 s idle timeout after which
        # the wall-clock watermark closes the last windows (one unchanged poll could come first).
        want, stable = None, 0
        for _ in range(600):
            time.sleep(0.2)
            have = len(aggregates(data))
            stable = stable + 1 if have and have == want else 0
            if stable >= 10:
                break
            want = have
        code = d.stop()
        assert code == 0, f"daemon exit status {code}"
        subprocess.run([a.bin, "replay", "--registry", f"{work}/sim/registry.csv", "--data", f"{work}/replay",
                        "--config", config, "--no-progress", "--no-fsync", f"{work}/sim/records.csv"], check=True, stdout=subprocess.DEVNULL)
        served, replayed = aggregates(data), aggregates(f"{work}/replay")
        missing = sorted(set(replayed) - set(served)); extra = sorted(set(served) - set(replayed))
        differ = sorted(k for k in replayed if k in served and served[k] != replayed[k])
        if missing or extra or differ:
            print(f"crash-test: FAIL (seed {a.seed}): {len(missing)} files missing, {len(extra)} extra, {len(differ)} differ; e.g. {(missing + extra + differ)[:3]}")
            print(f"crash-test: work folder kept: {work}")
            a.keep = True
            sys.exit(1)
        print(f"crash-test: {len(replayed)} aggregate files byte-identical to replay after {kills} kill -9 (seed {a.seed})")
        served_alerts, replayed_alerts = alert_log(data), alert_log(f"{work}/replay")
        # The daemon's last wall-clock watermark move runs past the data: the whole fleet is silent
        # from there, an outage that only the daemon can see (replay has no wall clock). Those
        # silent-meter events are set aside; every other event must be replay's, in replay's order,
        # and the daemon's seq must run 1, 2, 3, ... (nothing lost or repeated across kill -9).
        def when(text):
            try:
                t = datetime.datetime.fromisoformat(text)
            except ValueError:
                return None   # the bad lines the simulator mixes in
            return t if t.tzinfo else None
        last = max(t for t in (when((f[3] if f[0] == b"i" else f[2]).decode(errors="replace"))
                               for f in (l.split(b",") for l in lines) if len(f) >= 4 and f[0] in (b"r", b"i")) if t)
        served_events = [json.loads(l) for l in served_alerts.splitlines()]
        outage = [e for e in served_events if e["kind"] == "data_quality" and e["id"].endswith("/silent") and when(e["window_end"]) > last]
        def body(e):
            return {k: v for k, v in e.items() if k != "seq"}
        s_rest = [body(e) for e in served_events if e not in outage]
        r_rest = [body(json.loads(l)) for l in replayed_alerts.splitlines()]
        seqs_ok = [e["seq"] for e in served_events] == list(range(1, len(served_events) + 1))
        if s_rest != r_rest or not r_rest or not seqs_ok:
            first = next((i for i, (x, y) in enumerate(zip(s_rest, r_rest)) if x != y), min(len(s_rest), len(r_rest)))
            print(f"crash-test: FAIL (seed {a.seed}): alert logs differ: served {len(s_rest)} events (+{len(outage)} outage), replayed {len(r_rest)};"
                  f" first difference at event {first + 1}; seq 1..n: {seqs_ok}")
            print(f"crash-test: work folder kept: {work}")
            a.keep = True
            sys.exit(1)
        print(f"crash-test: {len(r_rest)} alert events identical to replay's, each once (and {len(outage)} outage events after the data, from the wall clock)")
        print("crash-test: 1 passed, 0 failed")
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)

if __name__ == "__main__":
    main()
