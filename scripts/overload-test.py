#!/usr/bin/env python3
"""Overload test for `gridcarbon serve` (reference §6: bounded memory, every answer owed).

8 TCP producers and 4 HTTP posters send register readings at full speed for N seconds into one
daemon. Meanwhile the daemon's resident memory (/proc/PID/status VmRSS) is sampled and must stay
under --rss-bound-mib. At the end every line sent must be answered for exactly: each `!sync`
answer (`ok TAKEN REJECTED`) and each HTTP answer (accepted+duplicate+rejected+late) covers the
lines sent before it, and the sums equal the daemon's own counters (gridcarbon_records_total in
/metrics, counted as the write-ahead log's entries are applied): nothing lost, nothing counted
twice. The daemon must then stop cleanly (exit 0).

The memory bound, 512 MiB by default: the engine queue holds at most engine_queue_bytes (64 MiB)
plus about one batch per producer; each TCP connection holds at most 4 reads of 1 MiB, each HTTP
request one piece of 1 MiB; the engine's open slots are bounded by the reorder window times the
meters (here 2400). Everything beyond that is the binary and its heap (debug builds are larger).

Each producer owns its meters (meter i goes to producer i mod 12) and walks the same clock: step
k is base + k minutes, all its meters read at each step. Producers run at different speeds, so a
producer further behind the fastest than the reorder window (--reorder-window, 2h) sends lines
that are late: that is interleaving at the watermark, expected under overload; idle timeouts
(the watermark following wall time) are not, the run reports the late count.

    scripts/overload-test.py [--seconds 60] [--bin .build/debug/gridcarbon] [--rss-bound-mib 512]
"""
import argparse, datetime, http.client, json, multiprocessing, os, re, shutil, signal, socket, subprocess, sys, tempfile, threading, time
from testkit import free_port, wait_port

TCP_PRODUCERS, HTTP_POSTERS = 8, 4
ZONE = datetime.timezone(datetime.timedelta(hours=8))

def chunks(meters, base, deadline_step, steps_per_chunk):
    """Yields (bytes, line count) of `steps_per_chunk` steps of readings of `meters`, step after step."""
    step = 0
    while step < deadline_step:
        out = []
        for s in range(step, min(step + steps_per_chunk, deadline_step)):
            t = (base + datetime.timedelta(minutes=s)).strftime("%Y-%m-%dT%H:%M:%S+08:00")
            v = s * 0.25
            out.extend(f"r,{m},{t},{1000 + i * 7 + v:.2f}\n" for i, m in enumerate(meters))
        step += steps_per_chunk
        yield "".join(out).encode(), len(out)

def tcp_producer(port, meters, base, last_step, until, results):
    sent = taken = rejected = syncs = 0
    errors = []
    sock = socket.create_connection(("127.0.0.1", port))
    f = sock.makefile("rb")
    pending = []  # line counts of chunks whose !sync is not answered yet
    lock = threading.Condition()
    answers = []
    def reader():
        for raw in f:
            with lock:
                answers.append(raw.decode().strip()); lock.notify_all()
        with lock:
            answers.append(None); lock.notify_all()
    threading.Thread(target=reader, daemon=True).start()
    def collect(wait_for):
        nonlocal taken, rejected, syncs
        with lock:
            while len(pending) > wait_for:
                while not answers:
                    lock.wait(60)
                    if not answers:
                        errors.append("no answer to !sync within 60 s"); return False
                a = answers.pop(0)
                expected = pending.pop(0)
                m = re.fullmatch(r"ok (\d+) (\d+)", a or "")
                if not m:
                    errors.append(f"unexpected answer {a!r}"); return False
                t, r = int(m.group(1)), int(m.group(2))
                if t + r != expected:
                    errors.append(f"!sync answered {t}+{r} for {expected} lines")
                taken += t; rejected += r; syncs += 1
        return True
    for body, n in chunks(meters, base, last_step, 20):
        if time.time() > until:
            break
        sock.sendall(body + b"!sync\n")
        sent += n
        with lock:
            pending.append(n)
        if not collect(4):  # at most 4 chunks unanswered
            break
    collect(0)
    sock.close()
    results.put(("tcp", sent, taken, rejected, 0, syncs, errors))

def http_poster(port, meters, base, last_step, until, results):
    sent = taken = rejected = late = posts = 0
    errors = []
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    for body, n in chunks(meters, base, last_step, 40):
        if time.time() > until:
            break
        conn.request("POST", "/v1/records", body=body, headers={"Content-Type": "text/csv"})
        r = conn.getresponse()
        payload = r.read()
        sent += n
        if r.status != 200:
            errors.append(f"HTTP {r.status}: {payload[:200]!r}"); break
        o = json.loads(payload)
        total = o["accepted"] + o["duplicate"] + o["rejected"] + o["late"]
        if total != n:
            errors.append(f"HTTP answered {total} for {n} lines")
        taken += o["accepted"] + o["duplicate"] + o["late"]; rejected += o["rejected"]; late += o["late"]; posts += 1
    conn.close()
    results.put(("http", sent, taken, rejected, late, posts, errors))

def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0

def metrics(port):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("GET", "/metrics"); text = c.getresponse().read().decode(); c.close()
    out = {}
    for m in re.finditer(r'^gridcarbon_records_total\{outcome="(\w+)"\} (\d+)', text, re.M):
        out[m.group(1)] = int(m.group(2))
    return out

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--bin", default=".build/debug/gridcarbon")
    ap.add_argument("--meters", type=int, default=2400)
    ap.add_argument("--rss-bound-mib", type=int, default=512)
    ap.add_argument("--reorder-window", default="2h")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    a = ap.parse_args()
    binary = os.path.abspath(a.bin)
    work = tempfile.mkdtemp(prefix="gridcarbon-overload-")
    ok = False
    try:
        subprocess.run([binary, "simulate", "--meters", str(a.meters), "--days", "1", "--out", f"{work}/sim"],
                       check=True, stdout=subprocess.DEVNULL)
        with open(f"{work}/sim/registry.csv") as f:
            ids = [line.split(",")[0] for line in f.read().splitlines()[1:] if line]
        tcp, web = free_port(), free_port()
        data = f"{work}/data"
        log = open(data + ".log", "ab")
        proc = subprocess.Popen([binary, "serve", "--registry", f"{work}/sim/registry.csv", "--data", data,
                                 "--tcp", f"127.0.0.1:{tcp}", "--http", f"127.0.0.1:{web}",
                                 "--reorder-window", a.reorder_window], stdout=log, stderr=log)
        for port in (tcp, web):
            wait_port(port, proc, "overload-test: daemon", data + ".log")
        # Event time starts 20 days back and may not pass an hour ago (max_future).
        now = datetime.datetime.now(ZONE).replace(second=0, microsecond=0)
        base = now - datetime.timedelta(days=20)
        last_step = int((now - base).total_seconds() // 60) - 60
        results = multiprocessing.Queue()
        start = time.time()
        until = start + a.seconds
        workers = []
        n = TCP_PRODUCERS + HTTP_POSTERS
        for p in range(n):
            meters = ids[p::n]
            target, port = (tcp_producer, tcp) if p < TCP_PRODUCERS else (http_poster, web)
            w = multiprocessing.Process(target=target, args=(port, meters, base, last_step, until, results))
            w.start(); workers.append(w)
        peak = 0
        samples = 0
        while any(w.is_alive() for w in workers):
            peak = max(peak, rss_kib(proc.pid)); samples += 1
            if proc.poll() is not None:
                raise SystemExit(f"overload-test: FAIL: the daemon exited {proc.returncode}; see {data}.log")
            time.sleep(0.2)
        elapsed = time.time() - start
        got = [results.get(timeout=30) for _ in workers]
        for w in workers:
            w.join()
        peak = max(peak, rss_kib(proc.pid))
        counters = metrics(web)
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=300)
        sent = sum(g[1] for g in got); taken = sum(g[2] for g in got); rejected = sum(g[3] for g in got)
        errors = [e for g in got for e in g[6]]
        syncs = sum(g[5] for g in got if g[0] == "tcp"); posts = sum(g[5] for g in got if g[0] == "http")
        counted_taken = counters.get("accepted", 0) + counters.get("duplicate", 0) + counters.get("late", 0)
        print(f"overload-test: {sent} lines in {elapsed:.1f} s ({sent / elapsed:.0f} lines/s) from {TCP_PRODUCERS} TCP producers "
              f"({syncs} !sync) and {HTTP_POSTERS} HTTP posters ({posts} posts)")
        print(f"overload-test: answers: taken {taken}, rejected {rejected}; daemon counters: {counters}")
        print(f"overload-test: peak RSS {peak / 1024:.1f} MiB over {samples} samples (bound {a.rss_bound_mib} MiB); "
              f"late {counters.get('late', 0)} ({100.0 * counters.get('late', 0) / max(1, sent):.2f} %)")
        http_sent = sum(g[1] for g in got if g[0] == "http"); http_late = sum(g[4] for g in got if g[0] == "http")
        print(f"overload-test: late by path: HTTP {http_late} of {http_sent} lines, TCP {counters.get('late', 0) - http_late} of {sent - http_sent} "
              f"(a producer further behind the fastest than the reorder window {a.reorder_window} sends late lines)")
        fails = list(errors)
        if taken + rejected != sent:
            fails.append(f"answers cover {taken + rejected} lines, {sent} were sent")
        if counted_taken != taken or counters.get("rejected", 0) != rejected:
            fails.append(f"the daemon counted {counted_taken} taken, {counters.get('rejected', 0)} rejected; answers said {taken}, {rejected}")
        if peak > a.rss_bound_mib * 1024:
            fails.append(f"peak RSS {peak / 1024:.1f} MiB over the bound {a.rss_bound_mib} MiB")
        if code != 0:
            fails.append(f"the daemon exited {code} on SIGTERM")
        if sent == 0:
            fails.append("nothing was sent")
        for f in fails[:20]:
            print(f"overload-test: FAIL: {f}")
        ok = not fails
        if ok:
            print("overload-test: ok")
    finally:
        if a.keep or not ok:
            print(f"overload-test: work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    sys.exit(0 if ok else 1)

if __name__ == "__main__":
    main()
