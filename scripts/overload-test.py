#!/usr/bin/env python3
"""Overload test for `gridcarbon serve` (reference §6: bounded memory, every answer owed).

8 TCP producers and 4 HTTP posters send register readings as fast as the daemon takes them for N
seconds into one daemon whose engine queue is small (`engine_queue_bytes` 1 MiB, well under what
the producers keep in flight: 8 connections of up to 4 batches, 8 request bodies of ~180 KB), so
the queue bound is hit and producers are slowed, not buffered:
- a TCP producer writes without waiting for answers: chunks of lines (~180 KB), each followed by
  `!sync`; a reader thread on the same connection collects the `ok TAKEN REJECTED` answers and
  checks each covers its chunk. It keeps at most --tcp-window-mib (4 MiB) unanswered and a small
  send buffer, so the drain after --seconds stays short (the daemon's loopback receive buffer
  alone may grow to 32 MiB per connection): 8 x 4 MiB in flight, 32 times the engine queue;
- an HTTP poster runs 2 threads, each with its own connection and meters, posting back to back.
Meanwhile the daemon's resident memory (/proc/PID/status VmRSS) is sampled every 200 ms and must
stay under --rss-bound-mib, and `gridcarbon_engine_queue_waits_total` (/metrics) must end above 0 (the
gate was reached).

Reconciliation, exact: every producer stream owns its meters and sends steps 0..k-1 of them, so
after the run the lines it sent are regenerated from (meters, k) and summed into a count and an
order-independent digest (sum of CRC-32s of the lines). After the run the daemon is stopped (SIGTERM, exit 0) and its
write-ahead log (DATA/wal/, kept whole: checkpoint_bytes is set beyond the run, and the shutdown
checkpoint keeps the log from the previous one) is read back: the lines its batch entries hold
must equal the lines sent (count and digest: none lost, none twice), the answers (`!sync` and HTTP
JSON) must cover exactly those lines, and the daemon's counters (gridcarbon_records_total in
/metrics) must equal the answers' sums.

The memory bound, 256 MiB by default (peak VmRSS sampled every 200 ms): the engine queue holds at
most engine_queue_bytes (1 MiB) plus about one batch (1 MiB) per producer; each TCP connection
holds at most 4 reads of 1 MiB, each HTTP request one piece of 1 MiB; the engine's open slots are
bounded by the reorder window times the meters (here 2400): together under 60 MiB. The rest is the
debug binary and its heap, about 45-60 MiB at idle (the run prints it); runs peak near 100 MiB.
The producers keep at most ~35 MiB unanswered, so the bound does not tell the gate from buffering
what is in flight (waits > 0 does); it catches anything kept per line or per batch: the run sends
100-400 MB of lines.

Each producer stream owns its meters and walks the same clock: step k is base + k minutes, all its
meters read at each step. Streams run at different speeds, so one further behind the fastest than
the reorder window (--reorder-window, 2h) sends lines that are late: interleaving at the
watermark, expected under overload; the run reports the late count.

    scripts/overload-test.py [--seconds 60] [--bin .build/debug/gridcarbon] [--rss-bound-mib 256]
"""
import argparse, collections, datetime, glob, http.client, json, multiprocessing, os, re, shutil, signal, socket, struct, subprocess, sys, tempfile, threading, time, zlib
from testkit import free_port, wait_port

TCP_PRODUCERS, HTTP_POSTERS, HTTP_THREADS = 8, 4, 2
QUEUE_BYTES = 1 << 20  # engine_queue_bytes: well under what the producers keep in flight (reference §6)
ZONE = datetime.timezone(datetime.timedelta(hours=8))
MASK = (1 << 64) - 1

def digest(body):
    """Order-independent digest of the lines of `body` (each ending with a newline)."""
    return sum(map(zlib.crc32, body.split(b"\n")[:-1])) & MASK

def chunks(meters, base, deadline_step, steps_per_chunk):
    """Yields (bytes, line count, steps) of `steps_per_chunk` steps of readings of `meters`, step
    after step. Cheap on purpose (one join per step: every meter's register reads the same at a
    step), so the producers, not the daemon, are not what limits the run."""
    step = 0
    while step < deadline_step:
        out = []
        end = min(step + steps_per_chunk, deadline_step)
        for s in range(step, end):
            t = (base + datetime.timedelta(minutes=s)).strftime("%Y-%m-%dT%H:%M:%S+08:00")
            tail = f",{t},{1000 + s * 0.25:.2f}\n"
            out.append("r," + (tail + "r,").join(meters) + tail)
        yield "".join(out).encode(), len(meters) * (end - step), end - step
        step = end

def sent_lines(streams, base):
    """(lines, digest) of what producer streams sent, each (meters, steps): regenerated after the
    run, so the producers spend nothing on it while they load the daemon."""
    lines = dig = 0
    for meters, steps in streams:
        for body, n, _ in chunks(meters, base, steps, 60):
            lines += n; dig = (dig + digest(body)) & MASK
    return lines, dig

def tcp_producer(port, meters, base, last_step, until, window, results):
    """Sends chunks each followed by `!sync` without waiting for their answers (up to `window`
    bytes unanswered); a reader thread checks the answers as they come."""
    sent = steps = taken = rejected = syncs = 0
    errors = []
    sock = socket.create_connection(("127.0.0.1", port))
    # A small send buffer: what the daemon does not read waits here, not in a deep kernel buffer
    # (the drain after --seconds stays short).
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 128 << 10)
    pending = collections.deque()  # (lines, bytes) of chunks whose !sync is not answered yet
    room = threading.Condition()
    unanswered = 0
    def reader():
        nonlocal taken, rejected, syncs, unanswered
        for raw in sock.makefile("rb"):
            a = raw.decode(errors="replace").strip()
            m = re.fullmatch(r"ok (\d+) (\d+)", a)
            if not m or not pending:
                errors.append(f"unexpected answer {a!r}"); return
            expected, size = pending.popleft()
            with room:
                unanswered -= size; room.notify()
            t, r = int(m.group(1)), int(m.group(2))
            if t + r != expected:
                errors.append(f"!sync answered {t}+{r} for {expected} lines")
            taken += t; rejected += r; syncs += 1
    rt = threading.Thread(target=reader, daemon=True)
    rt.start()
    for body, n, k in chunks(meters, base, last_step, 20):
        if time.time() > until or errors:
            break
        with room:
            while unanswered > window and rt.is_alive():
                room.wait(1)
            unanswered += len(body)
        pending.append((n, len(body)))  # before sending: the answer may come before sendall returns
        sock.sendall(body + b"!sync\n")
        sent += n; steps += k
    sock.shutdown(socket.SHUT_WR)  # half-close: every pending !sync is still answered (reference §6)
    rt.join(120)
    if rt.is_alive():
        errors.append(f"{len(pending)} !sync unanswered 120 s after the last line")
    elif pending:
        errors.append(f"the connection closed with {len(pending)} !sync unanswered")
    sock.close()
    results.put(("tcp", sent, taken, rejected, 0, syncs, errors, [(meters, steps)]))

def http_poster(port, meters, base, last_step, until, results):
    """HTTP_THREADS threads, each with its own connection and share of `meters`, post back to back."""
    totals = collections.Counter()
    errors, streams = [], []
    lock = threading.Lock()
    def post(ms):
        sent = steps = taken = rejected = late = posts = 0
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        for body, n, k in chunks(ms, base, last_step, 40):
            if time.time() > until:
                break
            conn.request("POST", "/v1/records", body=body, headers={"Content-Type": "text/csv"})
            r = conn.getresponse()
            payload = r.read()
            sent += n; steps += k
            if r.status != 200:
                with lock: errors.append(f"HTTP {r.status}: {payload[:200]!r}")
                break
            o = json.loads(payload)
            total = o["accepted"] + o["duplicate"] + o["rejected"] + o["late"]
            if total != n:
                with lock: errors.append(f"HTTP answered {total} for {n} lines")
            taken += o["accepted"] + o["duplicate"] + o["late"]; rejected += o["rejected"]; late += o["late"]; posts += 1
        conn.close()
        with lock:
            totals.update(sent=sent, taken=taken, rejected=rejected, late=late, posts=posts)
            streams.append((ms, steps))
    threads = [threading.Thread(target=post, args=(meters[k::HTTP_THREADS],)) for k in range(HTTP_THREADS)]
    for t in threads: t.start()
    for t in threads: t.join()
    results.put(("http", totals["sent"], totals["taken"], totals["rejected"], totals["late"], totals["posts"], errors, streams))

def wal_lines(data):
    """(lines, digest) of the record lines the write-ahead log's batch entries hold, and the
    count of lines refused before parsing (rejectedLine entries). Entry: [u32 length][u32 CRC-32]
    [payload]; a batch payload: [u8 1][i64][i64][u16 source length][source][lines]."""
    lines = dig = refused = 0
    for path in sorted(glob.glob(os.path.join(data, "wal", "wal-*.log"))):
        buf = open(path, "rb").read()
        at = 0
        while at + 8 <= len(buf):
            length, crc = struct.unpack_from("<II", buf, at)
            payload = buf[at + 8:at + 8 + length]
            if length == 0 or len(payload) < length or zlib.crc32(payload) != crc:
                break  # end of what was written
            at += 8 + length
            if payload[0] == 1:
                (slen,) = struct.unpack_from("<H", payload, 17)
                body = payload[19 + slen:]
                lines += body.count(b"\n"); dig = (dig + digest(body)) & MASK
            elif payload[0] == 4:
                refused += 1
    return lines, dig, refused

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
    m = re.search(r'^gridcarbon_engine_queue_waits_total(?:\{[^}]*\})? ([0-9.eE+]+)', text, re.M)
    waits = int(float(m.group(1))) if m else None
    return out, waits

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--bin", default=".build/debug/gridcarbon")
    ap.add_argument("--meters", type=int, default=2400)
    ap.add_argument("--rss-bound-mib", type=int, default=256)
    ap.add_argument("--reorder-window", default="2h")
    ap.add_argument("--tcp-window-mib", type=int, default=4,
                    help="bytes a TCP producer sends ahead of its answers (bounds the drain after --seconds)")
    ap.add_argument("--fsync", default="batch", help="write-ahead log fsync policy (batch, interval:DURATION, never)")
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
        with open(f"{work}/config.json", "w") as f:
            # A small engine queue, so the gate is reached; no checkpoint before shutdown, so the
            # write-ahead log keeps every batch for the reconciliation. Written as strings: this
            # binary ignores limits given as JSON numbers (reference §6 says both are taken).
            json.dump({"engine_queue_bytes": str(QUEUE_BYTES), "checkpoint_bytes": str(1 << 40), "fsync": a.fsync}, f)
        log = open(data + ".log", "ab")
        proc = subprocess.Popen([binary, "serve", "--config", f"{work}/config.json", "--registry", f"{work}/sim/registry.csv",
                                 "--data", data, "--tcp", f"127.0.0.1:{tcp}", "--http", f"127.0.0.1:{web}",
                                 "--reorder-window", a.reorder_window], stdout=log, stderr=log)
        for port in (tcp, web):
            wait_port(port, proc, "overload-test: daemon", data + ".log")
        idle = rss_kib(proc.pid)
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
            extra = (a.tcp_window_mib << 20,) if p < TCP_PRODUCERS else ()
            w = multiprocessing.Process(target=target, args=(port, meters, base, last_step, until, *extra, results))
            w.start(); workers.append(w)
        peak = 0
        samples = 0
        while any(w.is_alive() for w in workers):
            peak = max(peak, rss_kib(proc.pid)); samples += 1
            if proc.poll() is not None:
                raise SystemExit(f"overload-test: FAIL: the daemon exited {proc.returncode}; see {data}.log")
            if time.time() > until + 180:
                raise SystemExit("overload-test: FAIL: producers still running 180 s after the end; answers are missing")
            time.sleep(0.2)
        elapsed = time.time() - start
        got = [results.get(timeout=30) for _ in workers]
        for w in workers:
            w.join()
        peak = max(peak, rss_kib(proc.pid))
        counters, waits = metrics(web)
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=300)
        logged, logged_digest, refused = wal_lines(data)
        sent = sum(g[1] for g in got); taken = sum(g[2] for g in got); rejected = sum(g[3] for g in got)
        regenerated, sent_digest = sent_lines([st for g in got for st in g[7]], base)
        if regenerated != sent:
            errors.append(f"the producers counted {sent} lines sent, their streams regenerate {regenerated}")
        errors = [e for g in got for e in g[6]]
        syncs = sum(g[5] for g in got if g[0] == "tcp"); posts = sum(g[5] for g in got if g[0] == "http")
        counted_taken = counters.get("accepted", 0) + counters.get("duplicate", 0) + counters.get("late", 0)
        print(f"overload-test: {sent} lines in {elapsed:.1f} s ({sent / elapsed:.0f} lines/s) from {TCP_PRODUCERS} TCP producers "
              f"({syncs} !sync) and {HTTP_POSTERS}x{HTTP_THREADS} HTTP posters ({posts} posts)")
        print(f"overload-test: answers: taken {taken}, rejected {rejected}; daemon counters: {counters}; "
              f"write-ahead log: {logged} lines{' (digest equal)' if logged_digest == sent_digest else ' (DIGEST DIFFERS)'}, {refused} refused")
        print(f"overload-test: engine queue waits {waits} (engine_queue_bytes {QUEUE_BYTES}); peak RSS {peak / 1024:.1f} MiB "
              f"over {samples} samples (bound {a.rss_bound_mib} MiB; {idle / 1024:.1f} MiB at idle); "
              f"late {counters.get('late', 0)} ({100.0 * counters.get('late', 0) / max(1, sent):.2f} %)")
        http_sent = sum(g[1] for g in got if g[0] == "http"); http_late = sum(g[4] for g in got if g[0] == "http")
        print(f"overload-test: late by path: HTTP {http_late} of {http_sent} lines, TCP {counters.get('late', 0) - http_late} of {sent - http_sent} "
              f"(a producer further behind the fastest than the reorder window {a.reorder_window} sends late lines)")
        fails = list(errors)
        if taken + rejected != sent:
            fails.append(f"answers cover {taken + rejected} lines, {sent} were sent")
        if logged + refused != sent or logged_digest != sent_digest:
            fails.append(f"the write-ahead log holds {logged} lines and {refused} refused (digest "
                         f"{'equal' if logged_digest == sent_digest else 'differs'}); {sent} were sent")
        if counted_taken != taken or counters.get("rejected", 0) != rejected:
            fails.append(f"the daemon counted {counted_taken} taken, {counters.get('rejected', 0)} rejected; answers said {taken}, {rejected}")
        if waits is None or waits <= 0:
            fails.append(f"gridcarbon_engine_queue_waits_total is {waits}: the engine queue bound was never reached (no overload)")
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
