#!/usr/bin/env python3
"""MQTT devices end to end (reference §8): nats-server's MQTT listener feeds the same stream.

A simulated fleet's grid records go in with `gridcarbon publish` (which creates the streams,
P = 2); its meters' readings are published as MQTT QoS-1 messages by `mosquitto_pub`, a line per
message, to `gridcarbon/meter/<p>` (p from `gridcarbon partition --partitions 2`): most through one
`mosquitto_pub -l` per partition (a device publishing a line per message on one connection), the
last few lines of each partition by one `mosquitto_pub -m LINE` each. Two workers
(`serve --nats URL --partitions p`) and a merger (`serve --nats URL --merge`) run meanwhile. The
merger's aggregate files must be byte-identical to `gridcarbon replay` of the same lines (grid
records first, then the meter records in their order).

    scripts/mqtt-test.py [--meters 40] [--bin .build/debug/gridcarbon] [--keep]

nats-server is started through a link named `jetstream-node` in the work folder, so that someone
else's `pkill nats-server` on a shared machine does not take it down (and this script stops only
the processes it started, by pid).
"""
import argparse, os, shutil, signal, subprocess, sys, tempfile, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from testkit import aggregates, free_port, wait_port

def nats_binary():
    for d in ("/usr/bin", "/usr/local/bin", "/usr/sbin"):
        if os.access(f"{d}/nats-server", os.X_OK):
            return f"{d}/nats-server"
    raise SystemExit("mqtt-test: nats-server is missing: run scripts/install-deps.sh")

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--meters", type=int, default=40)
    ap.add_argument("--tail", type=int, default=5, help="lines per partition sent by one mosquitto_pub -m each")
    ap.add_argument("--bin", default=".build/debug/gridcarbon")
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    a.bin = os.path.abspath(a.bin)
    if shutil.which("mosquitto_pub") is None:
        raise SystemExit("mqtt-test: mosquitto_pub is missing: run scripts/install-deps.sh (Debian mosquitto-clients)")
    work = tempfile.mkdtemp(prefix="gridcarbon-mqtt-")
    procs, ok = [], False
    try:
        t0 = time.time()
        # Two days ago: the workers' idle ticks (wall clock) close every window of it.
        start = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 8 * 3600 - 2 * 86400))
        subprocess.run([a.bin, "simulate", "--meters", str(a.meters), "--start", start, "--seed", "7",
                        "--interval-share", "0.2", "--out", f"{work}/sim"], check=True, stderr=subprocess.DEVNULL)
        registry = f"{work}/sim/registry.csv"
        lines = [l for l in open(f"{work}/sim/records.csv").read().splitlines() if l and not l.startswith("#")]
        grid = [l for l in lines if l[0] not in "ri"]
        meters = [l for l in lines if l[0] in "ri"]
        ids = sorted({l.split(",")[1] for l in meters})
        out = subprocess.run([a.bin, "partition", "--partitions", "2", *ids], check=True, stdout=subprocess.PIPE, text=True).stdout
        part = dict((m, int(p)) for m, p in (l.split() for l in out.splitlines()))
        by_part = {p: [l for l in meters if part[l.split(",")[1]] == p] for p in (0, 1)}
        open(f"{work}/grid.csv", "w").write("".join(l + "\n" for l in grid))
        open(f"{work}/meters.csv", "w").write("".join(l + "\n" for l in meters))
        subprocess.run([a.bin, "replay", "--registry", registry, "--data", f"{work}/replay", "--no-progress", "--no-fsync",
                        f"{work}/grid.csv", f"{work}/meters.csv"], check=True, stdout=subprocess.DEVNULL)
        ref = aggregates(f"{work}/replay")

        # nats-server with JetStream and the MQTT listener (both need server_name).
        port, mqtt = free_port(), free_port()
        os.symlink(nats_binary(), f"{work}/jetstream-node")
        open(f"{work}/nats.conf", "w").write(
            f'server_name: "mqtt-test"\nlisten: "127.0.0.1:{port}"\njetstream {{ store_dir: "{work}/js" }}\n'
            f'mqtt {{ host: "127.0.0.1", port: {mqtt} }}\n')
        nats = subprocess.Popen([f"{work}/jetstream-node", "-c", f"{work}/nats.conf", "-l", f"{work}/nats.log"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        procs.append(nats)
        wait_port(port, nats, "nats-server", f"{work}/nats.log")
        wait_port(mqtt, nats, "nats-server's MQTT listener", f"{work}/nats.log")
        url = f"nats://127.0.0.1:{port}"

        # The streams (P = 2) and the grid records, by publish.
        r = subprocess.run([a.bin, "publish", "--nats", url, "--partitions", "2", "--data", f"{work}/publish", "--no-progress",
                            f"{work}/grid.csv"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0:
            raise SystemExit(f"mqtt-test: publish failed: {r.stdout[-500:]}")
        serves = []
        for name, role in (("worker0", ["--partitions", "0"]), ("worker1", ["--partitions", "1"]), ("merged", ["--merge"])):
            http = free_port()
            log = f"{work}/{name}.log"
            p = subprocess.Popen([a.bin, "serve", "--nats", url, "--registry", registry, "--data", f"{work}/{name}",
                                  "--http", f"127.0.0.1:{http}", "--idle-timeout", "1s", *role],
                                 stdout=open(log, "ab"), stderr=subprocess.STDOUT)
            procs.append(p); serves.append(p)
            wait_port(http, p, name, log)

        # The devices: QoS 1, a line per message.
        for p in (0, 1):
            body, tail = by_part[p][:-a.tail], by_part[p][-a.tail:]
            r = subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(mqtt), "-q", "1", "-i", f"gridcarbon-device-{p}",
                                "-t", f"gridcarbon/meter/{p}", "-l"], input="".join(l + "\n" for l in body),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
            if r.returncode != 0:
                raise SystemExit(f"mqtt-test: mosquitto_pub -l failed: {r.stdout}")
            for line in tail:
                r = subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(mqtt), "-q", "1", "-t", f"gridcarbon/meter/{p}",
                                    "-m", line], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=30)
                if r.returncode != 0:
                    raise SystemExit(f"mqtt-test: mosquitto_pub -m failed: {r.stdout}")

        deadline = time.time() + 90
        while time.time() < deadline and aggregates(f"{work}/merged") != ref:
            time.sleep(0.3)
        got = aggregates(f"{work}/merged")
        codes = []
        for p in serves:
            p.send_signal(signal.SIGTERM); codes.append(p.wait(timeout=60))
        missing = sorted(set(ref) - set(got)); extra = sorted(set(got) - set(ref))
        differ = sorted(k for k in ref if k in got and got[k] != ref[k])
        if not ref:
            print("mqtt-test: FAIL: replay wrote no aggregate files")
        elif missing or extra or differ:
            print(f"mqtt-test: FAIL: {len(missing)} files missing, {len(extra)} extra, {len(differ)} differ; e.g. {(missing + extra + differ)[:3]}")
        elif any(c != 0 for c in codes):
            print(f"mqtt-test: FAIL: exit statuses {codes}")
        else:
            ok = True
            print(f"mqtt-test: {len(meters)} meter lines over MQTT (QoS 1) and {len(grid)} grid lines by publish, P=2: "
                  f"{len(ref)} aggregate files identical to replay ({time.time() - t0:.1f} s)")
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGKILL); p.wait()
        if ok and not a.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"mqtt-test: work folder kept: {work}")
    sys.exit(0 if ok else 1)

if __name__ == "__main__":
    main()
